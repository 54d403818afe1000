-- Item ids (UUIDs as text) compare byte by byte, as SQLite compares all text: every write of
-- the register and the statistics finds or keeps rows by item id, and a build from empty
-- creates the unique index on (item_id, sequence) of half a million movements. Under the
-- database's collation (anything but "C", C.UTF-8 included, on PostgreSQL 15) each of those
-- comparisons went through the locale, and index builds could not sort by abbreviated keys.
-- A 1M-event catch-up: `CREATE UNIQUE INDEX balance_movements_item_sequence` 0.89 -> 0.50 s,
-- the register's COPY and upserts 3.8 -> 3.2 s of statement time (docs/performance.md,
-- fourteenth session). Joins with columns in the database's collation keep working: an
-- explicit column collation wins over the default one. Only `ORDER BY item_id` changes, to
-- byte order, which for UUIDs in lower-case hex is the order of their characters anyway.

ALTER TABLE item_register ALTER COLUMN item_id TYPE text COLLATE "C";
ALTER TABLE stats_items ALTER COLUMN item_id TYPE text COLLATE "C";
ALTER TABLE balance_movements ALTER COLUMN item_id TYPE text COLLATE "C";
