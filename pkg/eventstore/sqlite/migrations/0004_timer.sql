-- Durable timers (aggregate.Scheduler): the timers each entity's state lists, changed in
-- the transaction that changes the entity. A fired timer stays, fired = 1, while the state
-- still lists it with the same at, so it never fires twice.
CREATE TABLE timer (
    stream  TEXT    NOT NULL,
    key     TEXT    NOT NULL,
    at      INTEGER NOT NULL,  -- unix nanoseconds
    command TEXT    NOT NULL,  -- command type
    data    TEXT    NOT NULL,  -- command data (JSON)
    fired   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (stream, key)
) WITHOUT ROWID;
