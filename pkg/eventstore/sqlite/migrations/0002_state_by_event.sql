-- The state log keyed by the event log: a state row's seq is the seq of the event row whose
-- command produced that version (the entity's last command in the transaction). The
-- newest state of a stream is found through the event table's (stream, version) index, so
-- the state log needs no index of its own and a commit appends to it in order instead of
-- writing a random page of a second index per entity.
CREATE TABLE state_by_event (
    seq     INTEGER PRIMARY KEY,  -- seq of the event row that produced this version
    stream  TEXT    NOT NULL,
    version INTEGER NOT NULL,
    state   TEXT    NOT NULL,     -- the read model document (JSON)
    time    TEXT    NOT NULL
);
INSERT INTO state_by_event (seq, stream, version, state, time)
    SELECT e.seq, s.stream, s.version, s.state, s.time
    FROM state s JOIN event e ON e.stream = s.stream AND e.version = s.version;
DROP TABLE state;
ALTER TABLE state_by_event RENAME TO state;
