-- The incident an item counts under, from its `LinkedToIncident` / `UnlinkedFromIncident`
-- events. Links recorded before items carried them stay on the incident's own stream only.
ALTER TABLE item_register ADD COLUMN incident TEXT;
CREATE INDEX item_register_incident ON item_register (incident) WHERE incident IS NOT NULL;
