-- Transaction volumes move into the event log, as `VolumeRecorded` events of one stream per
-- branch (aggregate type `TransactionVolumes`), so that every suspense rate replays exactly
-- as it was known. The figures recorded so far become the streams' first events: the
-- business time `at` is when the figure was recorded, the log's `recorded_at` is now (the
-- log learns of them now). The table goes; reports read the figures from the log.
INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
SELECT 'TransactionVolumes',
       branch,
       row_number() OVER (PARTITION BY branch ORDER BY month),
       'VolumeRecorded',
       '1',
       json_object('VolumeRecorded', json_object(
           'at', replace(recorded_at, ' ', 'T'),
           'by', recorded_by,
           'branch', branch,
           'month', substr(month, 1, 7),
           'transactions', transactions,
           'replaces', NULL,
           'reason', NULL)),
       json_object('actor', recorded_by, 'source', 'migration')
  FROM transaction_volumes
 ORDER BY branch, month;

DROP TABLE transaction_volumes;
