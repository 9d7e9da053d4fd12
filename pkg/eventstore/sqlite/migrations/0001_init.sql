-- The event log: one row per command received, in order, with its outcome and the events
-- it produced. seq is the writer's global sequence.
CREATE TABLE event (
    seq             INTEGER PRIMARY KEY,
    stream          TEXT    NOT NULL,
    version         INTEGER,            -- entity version after the command; NULL if rejected
    command_id      TEXT    NOT NULL,
    command         TEXT    NOT NULL,   -- command type, e.g. credit
    data            TEXT    NOT NULL,   -- command data (JSON)
    outcome         TEXT    NOT NULL,   -- accepted | rejected
    events          TEXT    NOT NULL,   -- JSON array of event envelopes ([] if rejected)
    result          TEXT    NOT NULL,   -- the reply sent (JSON), replayed for idempotent retries
    idempotency_key TEXT,
    correlation_id  TEXT,
    time            TEXT    NOT NULL,
    UNIQUE (stream, version)
);
CREATE UNIQUE INDEX event_idempotency ON event (stream, idempotency_key) WHERE idempotency_key IS NOT NULL;

-- The state log: the state of each entity a transaction changed, after that transaction.
CREATE TABLE state (
    seq     INTEGER PRIMARY KEY,
    stream  TEXT    NOT NULL,
    version INTEGER NOT NULL,
    state   TEXT    NOT NULL,  -- the read model document (JSON)
    time    TEXT    NOT NULL,
    UNIQUE (stream, version)
);

-- The outbox cursor: events of rows with seq <= published_seq are on JetStream.
CREATE TABLE outbox (
    name          TEXT PRIMARY KEY,
    published_seq INTEGER NOT NULL
);
INSERT INTO outbox (name, published_seq) VALUES ('events', 0);
