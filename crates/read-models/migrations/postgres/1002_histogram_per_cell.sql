-- The resolution-time histogram becomes one row per month and cause key, its buckets in one
-- JSON value: a month's report reads one row per key however many items were resolved.
-- The statistics are rebuilt from the log: emptied here, the projector refills them.

DROP TABLE resolution_time_histogram;

CREATE TABLE resolution_time_histogram
(
    month           date    NOT NULL,
    category        text    NOT NULL,
    code            text    NOT NULL,
    branch          text    NOT NULL,
    channel         text    NOT NULL,
    currency        text    NOT NULL,
    -- [[bucket, resolved_count], ...], ascending by bucket, counts above zero.
    buckets         jsonb   NOT NULL,
    -- Sum of the counts in buckets.
    resolved_count  bigint  NOT NULL,
    PRIMARY KEY (month, category, code, branch, channel, currency)
);

DELETE FROM root_cause_monthly;
DELETE FROM root_cause_open;
DELETE FROM stats_items;
DELETE FROM stats_facts;
UPDATE projection_checkpoints
   SET position = 0, last_error = NULL, generation = generation + 1
 WHERE projection = 'root_cause_statistics';
