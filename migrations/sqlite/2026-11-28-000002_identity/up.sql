-- SQLite twin of migrations/postgres: uuid and timestamptz as TEXT, jsonb as JSON TEXT.
-- Identity and access: signing keys, accounts, partner clients, refresh tokens, revocations,
-- and the append-only audit log.
CREATE TABLE signing_keys (
    kid           TEXT NOT NULL PRIMARY KEY,
    algorithm     TEXT NOT NULL CHECK (algorithm = 'EdDSA'),
    private_key   TEXT NOT NULL,            -- PKCS#8 DER, base64
    public_key    TEXT NOT NULL,            -- raw Ed25519 public key, base64url (JWK "x")
    created_at    TEXT NOT NULL,
    sign_from     TEXT NOT NULL,     -- published before any instance signs with it
    retired_at    TEXT,              -- no longer used for signing
    publish_until TEXT               -- dropped from the JWKS after its last token expired
);

CREATE TABLE accounts (
    id                TEXT NOT NULL PRIMARY KEY,
    email             TEXT UNIQUE,
    password_hash     TEXT,
    kind              TEXT NOT NULL CHECK (kind IN ('resident', 'staff')),
    role              TEXT CHECK (role IN ('clerk', 'admin')),
    department_id     TEXT REFERENCES departments (id),
    display_name      TEXT,
    email_verified_at TEXT,
    disabled_at       TEXT,
    external_issuer   TEXT,
    external_subject  TEXT,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL,
    UNIQUE (external_issuer, external_subject)
);

CREATE TABLE clients (
    id              TEXT NOT NULL PRIMARY KEY,
    client_id       TEXT NOT NULL UNIQUE,
    name            TEXT NOT NULL,
    secret_hash     TEXT NOT NULL,          -- SHA-256 of a 256-bit random secret, hex
    scopes          TEXT NOT NULL,
    organisation_id TEXT,
    disabled_at     TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);

CREATE TABLE refresh_tokens (
    id          TEXT NOT NULL PRIMARY KEY,
    token_hash  TEXT NOT NULL UNIQUE,
    family_id   TEXT NOT NULL,
    account_id  TEXT NOT NULL REFERENCES accounts (id),
    scope       TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    used_at     TEXT,
    revoked_at  TEXT
);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);

CREATE TABLE revoked_tokens (
    jti        TEXT NOT NULL PRIMARY KEY,
    expires_at TEXT NOT NULL,
    revoked_at TEXT NOT NULL
);

-- Bumped with every revocation, disabled account or client and key change: instances poll it
-- to refresh their in-process view within 2 s.
CREATE TABLE security_revision (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    revision INTEGER NOT NULL
);
INSERT INTO security_revision (id, revision) VALUES (1, 0);

CREATE TABLE audit_events (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    id           TEXT NOT NULL UNIQUE,
    occurred_at  TEXT NOT NULL,
    actor_kind   TEXT NOT NULL,
    actor_id     TEXT,
    action       TEXT NOT NULL,
    target_type  TEXT,
    target_id    TEXT,
    outcome      TEXT NOT NULL CHECK (outcome IN ('success', 'failure')),
    ip           TEXT,
    request_id   TEXT,
    details      TEXT NOT NULL
);
CREATE INDEX audit_events_action_idx ON audit_events (action, seq);

-- The audit log is append-only: nothing, not even guichet itself, may change or delete a row.
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;
