-- The customer side of items. The register keeps each item's customer (the bank's
-- pseudonymous reference) and the latest reminder fallen due, in days after booking, so the
-- reminder sweep finds the items due through an index; held funds now change after booking.
-- The monthly statistics gain customer counters: items whose customer impact began, fees and
-- refunds, complaints received and closed, reminders due, sent and failed. Existing cells
-- have none of them, so the statistics are rebuilt from the log: emptied here, the projector
-- refills them.

ALTER TABLE item_register ADD COLUMN customer text;
ALTER TABLE item_register ADD COLUMN last_reminder_day integer NOT NULL DEFAULT 0;
CREATE INDEX item_register_reminders ON item_register (status, booked_on)
    WHERE customer IS NOT NULL;

DELETE FROM root_cause_monthly;
DELETE FROM root_cause_open;
DELETE FROM resolution_time_histogram;
DELETE FROM stats_items;

ALTER TABLE root_cause_monthly ADD COLUMN customer_impacted bigint NOT NULL DEFAULT 0;
ALTER TABLE root_cause_monthly ADD COLUMN fees_incurred_minor bigint NOT NULL DEFAULT 0;
ALTER TABLE root_cause_monthly ADD COLUMN fees_refunded_minor bigint NOT NULL DEFAULT 0;
ALTER TABLE root_cause_monthly ADD COLUMN complaints_received bigint NOT NULL DEFAULT 0;
ALTER TABLE root_cause_monthly ADD COLUMN complaints_closed bigint NOT NULL DEFAULT 0;
ALTER TABLE root_cause_monthly ADD COLUMN reminders_due bigint NOT NULL DEFAULT 0;
ALTER TABLE root_cause_monthly ADD COLUMN reminders_sent bigint NOT NULL DEFAULT 0;
ALTER TABLE root_cause_monthly ADD COLUMN reminders_failed bigint NOT NULL DEFAULT 0;

ALTER TABLE stats_items ADD COLUMN impacted integer NOT NULL DEFAULT 0;

UPDATE projection_checkpoints
   SET position = 0, last_error = NULL, generation = generation + 1
 WHERE projection = 'root_cause_statistics';
