-- Responses to POST requests that carried an Idempotency-Key, so a retry gets the first
-- response and writes nothing. A row with status 0 marks a request still in progress.
CREATE TABLE idempotency_keys
(
    user_name     text        NOT NULL,
    key           text        NOT NULL,
    request_hash  text        NOT NULL,
    status        integer     NOT NULL,
    body          text        NOT NULL,
    created_at    text        NOT NULL,
    PRIMARY KEY (user_name, key)
);
