-- Responses to requests that carried an idempotency key, so a retry gets the first response
-- and writes nothing. A row with status 0 marks a request still in progress.
-- IF NOT EXISTS: databases the HTTP service created hold the table from its own migration.
CREATE TABLE IF NOT EXISTS idempotency_keys
(
    user_name     text        NOT NULL,
    key           text        NOT NULL,
    request_hash  text        NOT NULL,
    status        integer     NOT NULL,
    body          text        NOT NULL,
    created_at    text        NOT NULL,
    PRIMARY KEY (user_name, key)
);
