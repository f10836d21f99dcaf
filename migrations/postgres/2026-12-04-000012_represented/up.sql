-- The party an organisation applies for (name, address, UID, power of attorney), when it
-- applies on behalf of someone else.
ALTER TABLE applications ADD COLUMN represented JSONB;
