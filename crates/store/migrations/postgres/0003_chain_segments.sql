-- The hash chain stored one row per page chained instead of one per event (src/chain.rs,
-- `ChainSegment`): `content_hashes` holds the SHA-256 of each event first_position..=
-- last_position, 32 bytes each in order; `link` is the link at last_position. The links in
-- between follow from the one before and are recomputed when needed. Appended only, by
-- `EventLog::extend_chain` and `EventLog::chain_page`; two writers extending from the same
-- head collide on first_position.
CREATE TABLE event_chain_segments
(
    first_position  bigint      NOT NULL UNIQUE CHECK (first_position >= 1),
    last_position   bigint      PRIMARY KEY,
    content_hashes  bytea       NOT NULL,
    link            text        NOT NULL,
    chained_at      timestamptz NOT NULL,
    CHECK (last_position >= first_position)
);
-- Hashes do not compress: store them without trying.
ALTER TABLE event_chain_segments ALTER COLUMN content_hashes SET STORAGE EXTERNAL;

-- An existing chain, in segments of 10,000 positions. A chain with a hole keeps it: the
-- segment's hashes then do not fit its positions, which verification reports.
INSERT INTO event_chain_segments (first_position, last_position, content_hashes, link, chained_at)
SELECT min(position), max(position),
       string_agg(decode(content_hash, 'hex'), ''::bytea ORDER BY position),
       (array_agg(link ORDER BY position DESC))[1], max(chained_at)
  FROM event_chain
 GROUP BY (position - 1) / 10000;

DROP TABLE event_chain;
