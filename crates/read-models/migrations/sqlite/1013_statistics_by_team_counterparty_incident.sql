-- The statistics count each item also under the team that handles it, the counterparty its
-- cause is attributed to and the incident it counts under, so that the root-cause summary can
-- be cut by them. As with its cause, all of an item's figures follow its current team,
-- counterparty and incident. `unassigned` stands for no team, `none` for no counterparty and
-- no incident. The histogram and the items open now stay per cause key.
-- The statistics are rebuilt from the log: emptied here, the projector refills them. SQLite
-- cannot change a primary key in place, so the monthly table is made anew (with its index,
-- whose definition a cut-short build may still hold back).

DELETE FROM projection_deferred_indexes WHERE name = 'root_cause_monthly_branch';
DROP TABLE root_cause_monthly;
CREATE TABLE root_cause_monthly
(
    month              text   NOT NULL,
    category           text   NOT NULL,
    code               text   NOT NULL,
    branch             text   NOT NULL,
    channel            text   NOT NULL,
    currency           text   NOT NULL,
    team               text   NOT NULL,
    counterparty       text   NOT NULL,
    incident           text   NOT NULL,
    opened_count       bigint NOT NULL,
    opened_minor       bigint NOT NULL,
    resolved_count     bigint NOT NULL,
    resolved_minor     bigint NOT NULL,
    reopened_count     bigint NOT NULL,
    reopened_minor     bigint NOT NULL,
    escalations        bigint NOT NULL,
    restated_items     bigint NOT NULL,
    open_at_end_count  bigint NOT NULL DEFAULT 0,
    open_at_end_minor  bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (month, category, code, branch, channel, currency, team, counterparty, incident)
);
CREATE INDEX root_cause_monthly_branch ON root_cause_monthly (branch, month);

DELETE FROM root_cause_open;
DELETE FROM resolution_time_histogram;
DELETE FROM stats_items;
ALTER TABLE stats_items ADD COLUMN team text NOT NULL DEFAULT 'unassigned';
ALTER TABLE stats_items ADD COLUMN counterparty text NOT NULL DEFAULT 'none';
ALTER TABLE stats_items ADD COLUMN incident text NOT NULL DEFAULT 'none';

UPDATE projection_checkpoints
   SET position = 0, last_error = NULL, generation = generation + 1
 WHERE projection = 'root_cause_statistics';
