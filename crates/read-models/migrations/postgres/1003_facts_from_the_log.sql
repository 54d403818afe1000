-- An item's contributions to the statistics ("facts") are no longer stored: they are a fold
-- of its events, replayed from the log when its cause changes. Nothing else changes, so no
-- rebuild is needed.

DROP TABLE stats_facts;
