-- Each monthly row also holds the items of its cause key open at the end of its month, so
-- that a report reads a period's closing stock from the period's own rows instead of
-- summing the flows of every month since (a cost that grew with the age of the period).
-- Rows are dense: from a key's first month to the latest month the table holds, every month
-- in which the key had items open has a row, even when nothing flowed in it.
-- Each histogram row also holds its month's median and 90th-percentile hours to resolution,
-- so that a month's report reads two numbers per key instead of every bucket.
-- The statistics are rebuilt from the log: emptied here, the projector refills them.

ALTER TABLE root_cause_monthly ADD COLUMN open_at_end_count bigint NOT NULL DEFAULT 0;
ALTER TABLE root_cause_monthly ADD COLUMN open_at_end_minor bigint NOT NULL DEFAULT 0;
ALTER TABLE resolution_time_histogram ADD COLUMN median_hours bigint;
ALTER TABLE resolution_time_histogram ADD COLUMN p90_hours bigint;

DELETE FROM root_cause_monthly;
DELETE FROM root_cause_open;
DELETE FROM resolution_time_histogram;
DELETE FROM stats_items;
UPDATE projection_checkpoints
   SET position = 0, last_error = NULL, generation = generation + 1
 WHERE projection = 'root_cause_statistics';
