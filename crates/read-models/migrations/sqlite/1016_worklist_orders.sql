-- A branch's worklist pages oldest first: with the booking date in the branch index the
-- page is read in order instead of sorting every open item of the branch. A definition the
-- projector stored while building the register from empty is replaced, not restored.
DELETE FROM projection_deferred_indexes WHERE name = 'item_register_branch';
DROP INDEX IF EXISTS item_register_branch;
CREATE INDEX item_register_branch ON item_register (branch, status, booked_on);

-- The worklist in order of risk: the highest escalation level first, then the oldest.
CREATE INDEX item_register_risk ON item_register (status, escalation_level DESC, booked_on);
