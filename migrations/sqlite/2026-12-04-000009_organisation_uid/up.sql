-- SQLite twin of migrations/postgres: a pending registration no longer reserves its UID.
-- SQLite cannot drop a column's UNIQUE, so the table is rebuilt inside the migration's
-- transaction, with foreign keys on: deferred, the drop counts the memberships and
-- applications that lose their organisation, and inserting the same rows into the new
-- `organisations` counts them back, so the commit finds nothing broken. (Renaming instead
-- would rewrite the other tables' REFERENCES to the renamed table.)
PRAGMA defer_foreign_keys = ON;
CREATE TABLE organisations_copy AS SELECT * FROM organisations;
DROP TABLE organisations;
CREATE TABLE organisations (
    id          TEXT NOT NULL PRIMARY KEY,
    uid         TEXT NOT NULL,
    name        TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('pending', 'verified', 'rejected')),
    created_by  TEXT NOT NULL REFERENCES accounts (id),
    decided_at  TEXT,
    decided_by  TEXT,
    revision    INTEGER NOT NULL DEFAULT 1,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
INSERT INTO organisations (id, uid, name, status, created_by, decided_at, decided_by, revision, created_at, updated_at)
    SELECT id, uid, name, status, created_by, decided_at, decided_by, revision, created_at, updated_at
    FROM organisations_copy;
DROP TABLE organisations_copy;
CREATE UNIQUE INDEX organisations_verified_uid_idx ON organisations (uid) WHERE status = 'verified';
CREATE INDEX organisations_uid_idx ON organisations (uid);
CREATE INDEX organisations_created_by_idx ON organisations (created_by, status);
