-- Where each subscription stands in the log: the position of the last event it has handed
-- over (or skipped by its filter), how many it delivered, and, while its target fails, the
-- attempts so far, the last error and when it parked. The log itself is the outbox: nothing
-- is written here in a command's transaction.
CREATE TABLE delivery_checkpoints
(
    subscription  text    PRIMARY KEY,
    position      bigint  NOT NULL,
    delivered     bigint  NOT NULL DEFAULT 0,
    failures      integer NOT NULL DEFAULT 0,
    last_error    text,
    parked_at     text,
    updated_at    text NOT NULL
);
