-- Businesses and organisations, identified by their Swiss UID; members act for them.
CREATE TABLE organisations (
    id          UUID PRIMARY KEY,
    uid         TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('pending', 'verified', 'rejected')),
    created_by  UUID NOT NULL REFERENCES accounts (id),
    decided_at  TIMESTAMPTZ,
    decided_by  TEXT,
    revision    BIGINT NOT NULL DEFAULT 1,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE memberships (
    organisation_id UUID NOT NULL REFERENCES organisations (id),
    account_id      UUID NOT NULL REFERENCES accounts (id),
    role            TEXT NOT NULL CHECK (role IN ('owner', 'member')),
    created_at      TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (organisation_id, account_id)
);
CREATE INDEX memberships_account_idx ON memberships (account_id);
CREATE INDEX clients_organisation_idx ON clients (organisation_id);
