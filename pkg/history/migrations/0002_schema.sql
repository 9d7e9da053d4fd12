-- The schema version of each event's data (event.Envelope.Schema); NULL is version 1,
-- the format of every event stored before versions existed.
ALTER TABLE history ADD COLUMN schema INTEGER;
