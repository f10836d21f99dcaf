-- SQLite twin of migrations/postgres: the party an organisation applies for.
ALTER TABLE applications ADD COLUMN represented TEXT;
