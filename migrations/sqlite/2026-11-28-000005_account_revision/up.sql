-- Profiles are edited with If-Match.
ALTER TABLE accounts ADD COLUMN revision INTEGER NOT NULL DEFAULT 1;
