-- Identity and access: signing keys, accounts, partner clients, refresh tokens, revocations,
-- and the append-only audit log.
CREATE TABLE signing_keys (
    kid           TEXT PRIMARY KEY,
    algorithm     TEXT NOT NULL CHECK (algorithm = 'EdDSA'),
    private_key   TEXT NOT NULL,            -- PKCS#8 DER, base64
    public_key    TEXT NOT NULL,            -- raw Ed25519 public key, base64url (JWK "x")
    created_at    TIMESTAMPTZ NOT NULL,
    sign_from     TIMESTAMPTZ NOT NULL,     -- published before any instance signs with it
    retired_at    TIMESTAMPTZ,              -- no longer used for signing
    publish_until TIMESTAMPTZ               -- dropped from the JWKS after its last token expired
);

CREATE TABLE accounts (
    id                UUID PRIMARY KEY,
    email             TEXT UNIQUE,
    password_hash     TEXT,
    kind              TEXT NOT NULL CHECK (kind IN ('resident', 'staff')),
    role              TEXT CHECK (role IN ('clerk', 'admin')),
    department_id     UUID REFERENCES departments (id),
    display_name      TEXT,
    email_verified_at TIMESTAMPTZ,
    disabled_at       TIMESTAMPTZ,
    external_issuer   TEXT,
    external_subject  TEXT,
    created_at        TIMESTAMPTZ NOT NULL,
    updated_at        TIMESTAMPTZ NOT NULL,
    UNIQUE (external_issuer, external_subject)
);

CREATE TABLE clients (
    id              UUID PRIMARY KEY,
    client_id       TEXT NOT NULL UNIQUE,
    name            TEXT NOT NULL,
    secret_hash     TEXT NOT NULL,          -- SHA-256 of a 256-bit random secret, hex
    scopes          TEXT NOT NULL,
    organisation_id UUID,
    disabled_at     TIMESTAMPTZ,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);

CREATE TABLE refresh_tokens (
    id          UUID PRIMARY KEY,
    token_hash  TEXT NOT NULL UNIQUE,
    family_id   UUID NOT NULL,
    account_id  UUID NOT NULL REFERENCES accounts (id),
    scope       TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL,
    used_at     TIMESTAMPTZ,
    revoked_at  TIMESTAMPTZ
);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);

CREATE TABLE revoked_tokens (
    jti        TEXT PRIMARY KEY,
    expires_at TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ NOT NULL
);

-- Bumped with every revocation, disabled account or client and key change: instances poll it
-- to refresh their in-process view within 2 s.
CREATE TABLE security_revision (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    revision BIGINT NOT NULL
);
INSERT INTO security_revision (id, revision) VALUES (1, 0);

CREATE TABLE audit_events (
    seq          BIGSERIAL PRIMARY KEY,
    id           UUID NOT NULL UNIQUE,
    occurred_at  TIMESTAMPTZ NOT NULL,
    actor_kind   TEXT NOT NULL,
    actor_id     TEXT,
    action       TEXT NOT NULL,
    target_type  TEXT,
    target_id    TEXT,
    outcome      TEXT NOT NULL CHECK (outcome IN ('success', 'failure')),
    ip           TEXT,
    request_id   TEXT,
    details      JSONB NOT NULL
);
CREATE INDEX audit_events_action_idx ON audit_events (action, seq);

-- The audit log is append-only: nothing, not even guichet itself, may change or delete a row.
CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only';
END;
$$;
CREATE TRIGGER audit_events_no_update BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
