-- The items open at the end of each month, per branch, cause, currency, booking date and
-- value date, so that aging as of a month end (and as of today) is one read of a month's
-- rows, and aging as of any other date adds at most one month's movements to them. Rows
-- follow root_cause_monthly's month-end stock: a month's rows are complete for every key
-- with items open at its end, for every month a movement fell in. Items carry their current
-- cause: a reclassification restates every month end the item was open at.
-- The register is rebuilt from the log to fill it: emptied here, the projector refills it.

CREATE TABLE aging_month_end
(
    month              date   NOT NULL,
    branch             text   NOT NULL,
    category           text   NOT NULL,
    currency           text   NOT NULL,
    booked_on          date   NOT NULL,
    value_date         date   NOT NULL,
    open_count         bigint NOT NULL,
    outstanding_minor  bigint NOT NULL,
    PRIMARY KEY (month, branch, category, currency, booked_on, value_date)
);

DELETE FROM item_register;
DELETE FROM open_balance;
DELETE FROM balance_movements;
UPDATE projection_checkpoints
   SET position = 0, last_error = NULL, generation = generation + 1
 WHERE projection = 'item_register';
