-- Facts about the file itself, e.g. the domain whose writer owns it ('domain').
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
