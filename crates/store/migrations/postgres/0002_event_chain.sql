-- Tamper evidence: a hash chain over the log in global order (src/chain.rs).
-- `content_hash` is SHA-256 of the event's canonical bytes; `link` covers the previous link,
-- the position and the content hash. Appended only, by `EventLog::extend_chain`.
CREATE TABLE event_chain
(
    position      bigint      PRIMARY KEY CHECK (position >= 1),
    content_hash  text        NOT NULL,
    link          text        NOT NULL,
    chained_at    timestamptz NOT NULL
);
