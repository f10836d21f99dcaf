-- Profiles are edited with If-Match.
ALTER TABLE accounts ADD COLUMN revision BIGINT NOT NULL DEFAULT 1;
