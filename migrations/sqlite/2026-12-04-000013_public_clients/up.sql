-- SQLite twin of migrations/postgres: public clients (no secret).
ALTER TABLE clients ADD COLUMN is_public BOOLEAN NOT NULL DEFAULT 0;
