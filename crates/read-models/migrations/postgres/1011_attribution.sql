-- A cause's attribution: the staff member an operational error is attributed to, and the
-- counterparty behind an external cause. Items attributed before the columns existed have
-- none: the `Attributed` event arrives with the columns.
ALTER TABLE item_register ADD COLUMN responsible TEXT;
ALTER TABLE item_register ADD COLUMN counterparty TEXT;
CREATE INDEX item_register_responsible ON item_register (responsible) WHERE responsible IS NOT NULL;
CREATE INDEX item_register_counterparty ON item_register (counterparty) WHERE counterparty IS NOT NULL;
