-- Secondary indexes of a read model that the projector dropped while it builds the model from
-- empty (each row would otherwise go into every index as it is written; creating an index
-- afterwards is one sort of the finished table); created again from here when the build ends,
-- or when a projector next starts if the build was cut short. (A later migration that changes
-- one of these indexes must first apply or discard any definition still stored here for it.)
CREATE TABLE projection_deferred_indexes
(
    name        TEXT PRIMARY KEY,
    projection  TEXT NOT NULL,
    definition  TEXT NOT NULL
);
