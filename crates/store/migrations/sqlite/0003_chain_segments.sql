-- The hash chain stored one row per page chained instead of one per event (src/chain.rs,
-- `ChainSegment`): `content_hashes` holds the SHA-256 of each event first_position..=
-- last_position, 32 bytes each in order; `link` is the link at last_position. The links in
-- between follow from the one before and are recomputed when needed. Appended only, by
-- `EventLog::extend_chain` and `EventLog::chain_page`; two writers extending from the same
-- head collide on first_position.
CREATE TABLE event_chain_segments
(
    first_position  integer NOT NULL UNIQUE CHECK (first_position >= 1),
    last_position   integer PRIMARY KEY,
    content_hashes  blob    NOT NULL,
    link            text    NOT NULL,
    chained_at      text    NOT NULL,
    CHECK (last_position >= first_position)
) STRICT;

-- An existing chain, in segments of 10,000 positions. A chain with a hole keeps it: the
-- segment's hashes then do not fit its positions, which verification reports.
INSERT INTO event_chain_segments (first_position, last_position, content_hashes, link, chained_at)
SELECT g.first_position, g.last_position, g.content_hashes, c.link, g.chained_at
  FROM (SELECT min(position) AS first_position, max(position) AS last_position,
               unhex(group_concat(content_hash, '' ORDER BY position)) AS content_hashes,
               max(chained_at) AS chained_at
          FROM event_chain
         GROUP BY (position - 1) / 10000) AS g
  JOIN event_chain c ON c.position = g.last_position;

DROP TABLE event_chain;
