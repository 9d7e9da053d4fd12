-- The global, ordered log of every domain's events. position is gapless: 1, 2, 3, ...
CREATE TABLE history (
    position       INTEGER PRIMARY KEY,
    event_id       TEXT    NOT NULL UNIQUE,
    stream         TEXT    NOT NULL,
    version        INTEGER NOT NULL,
    type           TEXT    NOT NULL,
    data           TEXT    NOT NULL,
    command_id     TEXT    NOT NULL,
    correlation_id TEXT,
    causation_id   TEXT,
    time           TEXT    NOT NULL,
    recorded       TEXT    NOT NULL
);
