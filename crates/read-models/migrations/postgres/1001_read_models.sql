-- Read models: plain tables that reporting jobs may query with SQL (docs/read-models.md).
-- Every row here can be dropped and rebuilt from the event log.

CREATE TABLE projection_checkpoints
(
    projection  text        PRIMARY KEY,
    position    bigint      NOT NULL,
    updated_at  timestamptz NOT NULL,
    settings    text        NOT NULL DEFAULT '',
    -- Bumped by every write of the projection: the guard against two projectors racing.
    generation  bigint      NOT NULL DEFAULT 0,
    last_error  text
);

CREATE TABLE item_register
(
    item_id            text        PRIMARY KEY,
    version            bigint      NOT NULL,
    source_system      text        NOT NULL,
    reference          text        NOT NULL,
    account            text        NOT NULL,
    branch             text        NOT NULL,
    channel            text        NOT NULL,
    direction          text        NOT NULL,
    currency           text        NOT NULL,
    minor_units        integer     NOT NULL,
    amount_minor       bigint      NOT NULL,
    cleared_minor      bigint      NOT NULL,
    outstanding_minor  bigint      NOT NULL,
    booked_on          date        NOT NULL,
    value_date         date        NOT NULL,
    description        text        NOT NULL,
    status             text        NOT NULL,
    category           text,
    code               text,
    reclassifications  integer     NOT NULL,
    team               text,
    assignee           text,
    escalation_level   integer     NOT NULL,
    funds_held         boolean     NOT NULL,
    fee_minor          bigint,
    fee_currency       text,
    opened_at          timestamptz NOT NULL,
    opened_by          text        NOT NULL,
    classified_at      timestamptz,
    resolved_at        timestamptz,
    resolution_method  text,
    reopen_count       integer     NOT NULL,
    comment_count      integer     NOT NULL,
    last_event_at      timestamptz NOT NULL
);
CREATE UNIQUE INDEX item_register_reference ON item_register (source_system, reference);
CREATE INDEX item_register_status ON item_register (status, booked_on);
CREATE INDEX item_register_branch ON item_register (branch, status);
CREATE INDEX item_register_category ON item_register (category, status);
CREATE INDEX item_register_team ON item_register (team, assignee);

CREATE TABLE open_balance
(
    currency           text   PRIMARY KEY,
    open_items         bigint NOT NULL,
    outstanding_minor  bigint NOT NULL
);

CREATE TABLE balance_movements
(
    item_id                  text    NOT NULL,
    sequence                 bigint  NOT NULL,
    on_date                  date    NOT NULL,
    outstanding_delta_minor  bigint  NOT NULL,
    open_delta               integer NOT NULL,
    PRIMARY KEY (item_id, sequence)
);
CREATE INDEX balance_movements_on_date ON balance_movements (on_date);

CREATE TABLE stats_items
(
    item_id       text    PRIMARY KEY,
    branch        text    NOT NULL,
    channel       text    NOT NULL,
    currency      text    NOT NULL,
    category      text    NOT NULL,
    code          text    NOT NULL,
    reclassified  boolean NOT NULL,
    booked_on     date    NOT NULL,
    amount_minor  bigint  NOT NULL
);

CREATE TABLE stats_facts
(
    item_id          text    NOT NULL,
    sequence         bigint  NOT NULL,
    kind             text    NOT NULL,
    month            date    NOT NULL,
    amount_minor     bigint  NOT NULL,
    duration_bucket  integer,
    PRIMARY KEY (item_id, sequence)
);

CREATE TABLE root_cause_monthly
(
    month           date   NOT NULL,
    category        text   NOT NULL,
    code            text   NOT NULL,
    branch          text   NOT NULL,
    channel         text   NOT NULL,
    currency        text   NOT NULL,
    opened_count    bigint NOT NULL,
    opened_minor    bigint NOT NULL,
    resolved_count  bigint NOT NULL,
    resolved_minor  bigint NOT NULL,
    reopened_count  bigint NOT NULL,
    reopened_minor  bigint NOT NULL,
    escalations     bigint NOT NULL,
    restated_items  bigint NOT NULL,
    PRIMARY KEY (month, category, code, branch, channel, currency)
);
CREATE INDEX root_cause_monthly_branch ON root_cause_monthly (branch, month);

-- Items open now per cause cell (opened - resolved + reopened over all months): open at the
-- end of a past period is this minus the flows of the months after it.
CREATE TABLE root_cause_open
(
    category    text   NOT NULL,
    code        text   NOT NULL,
    branch      text   NOT NULL,
    channel     text   NOT NULL,
    currency    text   NOT NULL,
    open_count  bigint NOT NULL,
    open_minor  bigint NOT NULL,
    PRIMARY KEY (category, code, branch, channel, currency)
);

CREATE TABLE resolution_time_histogram
(
    month           date    NOT NULL,
    category        text    NOT NULL,
    code            text    NOT NULL,
    branch          text    NOT NULL,
    channel         text    NOT NULL,
    currency        text    NOT NULL,
    bucket          integer NOT NULL,
    resolved_count  bigint  NOT NULL,
    PRIMARY KEY (month, category, code, branch, channel, currency, bucket)
);

-- Reference data, not derived from the log: kept across rebuilds.
CREATE TABLE transaction_volumes
(
    branch        text        NOT NULL,
    month         date        NOT NULL,
    transactions  bigint      NOT NULL CHECK (transactions >= 0),
    recorded_at   timestamptz NOT NULL,
    recorded_by   text        NOT NULL,
    PRIMARY KEY (branch, month)
);
