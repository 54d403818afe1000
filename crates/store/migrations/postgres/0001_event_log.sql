-- The event log of the production store.
--
-- `events` keeps the column set postgres-es reads and writes, plus three columns filled by
-- defaults: `event_id` (insertion number), `txid` (the writing transaction) and `recorded_at`.
--
-- Global positions cannot be handed out at insert time: with concurrent writers, a
-- transaction holding position 10 may commit after one holding 11, and a reader that
-- already passed 11 would never see 10. Instead the sequencer (src/sequencer.rs) numbers
-- events in (txid, event_id) order, but only those whose transaction is older than
-- pg_snapshot_xmin(pg_current_snapshot()): every such transaction has committed or rolled
-- back, so nothing can still appear below that horizon. `event_log` holds the result and
-- `event_log_head` where the sequencer stopped.

CREATE TABLE events
(
    aggregate_type text        NOT NULL,
    aggregate_id   text        NOT NULL,
    sequence       bigint      NOT NULL CHECK (sequence >= 1),
    event_type     text        NOT NULL,
    event_version  text        NOT NULL,
    payload        json        NOT NULL,
    metadata       json        NOT NULL,
    event_id       bigint      NOT NULL GENERATED ALWAYS AS IDENTITY,
    txid           xid8        NOT NULL DEFAULT pg_current_xact_id(),
    recorded_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (aggregate_type, aggregate_id, sequence)
);

CREATE INDEX events_commit_order ON events (txid, event_id);

-- Only used if snapshots are switched on; kept so both backends have the same tables.
CREATE TABLE snapshots
(
    aggregate_type   text   NOT NULL,
    aggregate_id     text   NOT NULL,
    last_sequence    bigint NOT NULL CHECK (last_sequence >= 0),
    current_snapshot bigint NOT NULL CHECK (current_snapshot >= 0),
    payload          json   NOT NULL,
    PRIMARY KEY (aggregate_type, aggregate_id, last_sequence)
);

CREATE TABLE event_log
(
    position       bigint PRIMARY KEY CHECK (position >= 1),
    aggregate_type text   NOT NULL,
    aggregate_id   text   NOT NULL,
    sequence       bigint NOT NULL,
    UNIQUE (aggregate_type, aggregate_id, sequence)
);

CREATE TABLE event_log_head
(
    singleton     boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    last_position bigint  NOT NULL,
    last_txid     xid8    NOT NULL,
    last_event_id bigint  NOT NULL
);

INSERT INTO event_log_head (last_position, last_txid, last_event_id) VALUES (0, '0', 0);

-- Events are facts: the application never changes or removes one.
CREATE FUNCTION events_are_immutable() RETURNS trigger
    LANGUAGE plpgsql AS
$$
BEGIN
    RAISE EXCEPTION 'events are immutable';
END;
$$;

CREATE TRIGGER events_are_immutable
    BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_are_immutable();

CREATE TRIGGER events_are_not_truncated
    BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_are_immutable();
