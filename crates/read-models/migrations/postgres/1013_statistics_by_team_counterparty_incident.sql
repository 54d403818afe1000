-- The statistics count each item also under the team that handles it, the counterparty its
-- cause is attributed to and the incident it counts under, so that the root-cause summary can
-- be cut by them. As with its cause, all of an item's figures follow its current team,
-- counterparty and incident. `unassigned` stands for no team, `none` for no counterparty and
-- no incident. The histogram and the items open now stay per cause key.
-- The statistics are rebuilt from the log: emptied here, the projector refills them.

DELETE FROM root_cause_monthly;
DELETE FROM root_cause_open;
DELETE FROM resolution_time_histogram;
DELETE FROM stats_items;

ALTER TABLE root_cause_monthly
    ADD COLUMN team text NOT NULL,
    ADD COLUMN counterparty text NOT NULL,
    ADD COLUMN incident text NOT NULL;
ALTER TABLE root_cause_monthly DROP CONSTRAINT root_cause_monthly_pkey;
ALTER TABLE root_cause_monthly ADD PRIMARY KEY
    (month, category, code, branch, channel, currency, team, counterparty, incident);

ALTER TABLE stats_items
    ADD COLUMN team text NOT NULL,
    ADD COLUMN counterparty text NOT NULL,
    ADD COLUMN incident text NOT NULL;

UPDATE projection_checkpoints
   SET position = 0, last_error = NULL, generation = generation + 1
 WHERE projection = 'root_cause_statistics';
