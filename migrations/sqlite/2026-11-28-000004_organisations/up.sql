-- Businesses and organisations, identified by their Swiss UID; members act for them.
CREATE TABLE organisations (
    id          TEXT NOT NULL PRIMARY KEY,
    uid         TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('pending', 'verified', 'rejected')),
    created_by  TEXT NOT NULL REFERENCES accounts (id),
    decided_at  TEXT,
    decided_by  TEXT,
    revision    INTEGER NOT NULL DEFAULT 1,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

CREATE TABLE memberships (
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    account_id      TEXT NOT NULL REFERENCES accounts (id),
    role            TEXT NOT NULL CHECK (role IN ('owner', 'member')),
    created_at      TEXT NOT NULL,
    PRIMARY KEY (organisation_id, account_id)
);
CREATE INDEX memberships_account_idx ON memberships (account_id);
CREATE INDEX clients_organisation_idx ON clients (organisation_id);
