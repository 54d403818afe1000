-- A balance movement is unique per item and sequence. That was the table's primary key, which
-- a build from empty cannot set aside; as a unique index of its own it is deferred with the
-- lookup indexes (`db/deferred_indexes.rs`) and created again, checking the whole table at
-- once, when the build ends. No statement names it as a conflict target: movements are only
-- ever inserted. Measured with the register's unique reference index deferred too, a 1M-event
-- PostgreSQL catch-up in time order took 9.6-10.9 s instead of 11.2-12.3 s (the index
-- builds at the end not counted; docs/performance.md, twelfth session).

ALTER TABLE balance_movements DROP CONSTRAINT balance_movements_pkey;
CREATE UNIQUE INDEX balance_movements_item_sequence ON balance_movements (item_id, sequence);
