-- The event log of the embedded default store.
--
-- `events` keeps the column set sqlite-es reads and writes, plus `recorded_at`.
-- `event_log` gives every event its global position. SQLite admits one writer at a time,
-- so a trigger can number events in commit order as they are inserted: a reader that
-- follows positions can never see position n+1 before position n.

CREATE TABLE events
(
    aggregate_type text    NOT NULL,
    aggregate_id   text    NOT NULL,
    sequence       integer NOT NULL CHECK (sequence >= 1),
    event_type     text    NOT NULL,
    event_version  text    NOT NULL,
    payload        text    NOT NULL,
    metadata       text    NOT NULL,
    recorded_at    text    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (aggregate_type, aggregate_id, sequence)
) STRICT;

-- Only used if snapshots are switched on; kept so both backends have the same tables.
CREATE TABLE snapshots
(
    aggregate_type   text    NOT NULL,
    aggregate_id     text    NOT NULL,
    last_sequence    integer NOT NULL CHECK (last_sequence >= 0),
    current_snapshot integer NOT NULL CHECK (current_snapshot >= 0),
    payload          text    NOT NULL,
    PRIMARY KEY (aggregate_type, aggregate_id, last_sequence)
) STRICT;

CREATE TABLE event_log
(
    position       integer PRIMARY KEY CHECK (position >= 1),
    aggregate_type text    NOT NULL,
    aggregate_id   text    NOT NULL,
    sequence       integer NOT NULL,
    UNIQUE (aggregate_type, aggregate_id, sequence)
) STRICT;

CREATE TRIGGER events_get_a_position
    AFTER INSERT ON events
BEGIN
    INSERT INTO event_log (position, aggregate_type, aggregate_id, sequence)
    VALUES ((SELECT coalesce(max(position), 0) + 1 FROM event_log),
            NEW.aggregate_type, NEW.aggregate_id, NEW.sequence);
END;

-- Events are facts: the application never changes or removes one.
CREATE TRIGGER events_are_immutable_update
    BEFORE UPDATE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are immutable');
END;

CREATE TRIGGER events_are_immutable_delete
    BEFORE DELETE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are immutable');
END;
