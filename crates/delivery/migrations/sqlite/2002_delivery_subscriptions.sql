-- Subscriptions a supervisor made through the API (those in the service's configuration file
-- are not kept here). Every instance reads this table; the one that leads starts and stops
-- deliverers as rows come and go. The webhook secret is kept as given: it signs requests,
-- so it cannot be hashed, and the API never returns it. Event types and branches are JSON
-- arrays of strings; a row is checked like a configured subscription when it is read.
CREATE TABLE delivery_subscriptions
(
    name              text    PRIMARY KEY,
    event_types       text    NOT NULL,
    branches          text    NOT NULL,
    webhook_url       text,
    webhook_secret    text,
    nats_server       text,
    jetstream_subject text,
    start             text    NOT NULL,
    max_attempts      integer NOT NULL,
    created_by        text    NOT NULL,
    created_at        text    NOT NULL
);
