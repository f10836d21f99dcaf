-- Back to a creator for every organisation: fails while an organisation an operator created exists (remove it first; nothing is deleted here).
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
