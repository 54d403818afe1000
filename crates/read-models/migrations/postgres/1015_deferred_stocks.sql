-- Month-end stocks a read model stopped keeping batch by batch while it is built from empty
-- (in item order every batch adds to nearly every month's stock, and the stocks were then
-- half a build's time); built once, in one grouped pass over the finished tables, when the
-- build ends, or when a projector next starts if the build was cut short. A batch written
-- while its table is named here leaves that table alone.
CREATE TABLE projection_deferred_stocks
(
    name        TEXT PRIMARY KEY,
    projection  TEXT NOT NULL
);
