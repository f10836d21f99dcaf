-- The service catalogue: categories, departments, services and their immutable versions.
CREATE TABLE categories (
    slug        TEXT PRIMARY KEY,
    label       JSONB NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE departments (
    id               UUID PRIMARY KEY,
    slug             TEXT NOT NULL UNIQUE,
    name             JSONB NOT NULL,
    directorate      TEXT,
    email            TEXT,
    phone            TEXT,
    address          TEXT,
    website          TEXT,
    contact_verified JSONB NOT NULL,
    source           TEXT,
    revision         BIGINT NOT NULL DEFAULT 1,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL
);

CREATE TABLE services (
    id              UUID PRIMARY KEY,
    slug            TEXT NOT NULL UNIQUE,
    department_id   UUID NOT NULL REFERENCES departments (id),
    category        TEXT NOT NULL REFERENCES categories (slug),
    status          TEXT NOT NULL CHECK (status IN ('draft', 'active', 'retired')),
    current_version INTEGER,
    revision        BIGINT NOT NULL DEFAULT 1,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    retired_at      TIMESTAMPTZ
);
CREATE INDEX services_department_idx ON services (department_id);

CREATE TABLE service_versions (
    id            UUID PRIMARY KEY,
    service_id    UUID NOT NULL REFERENCES services (id),
    version       INTEGER NOT NULL CHECK (version > 0),
    state         TEXT NOT NULL CHECK (state IN ('draft', 'published', 'superseded')),
    channel       TEXT NOT NULL CHECK (channel IN ('guichet', 'external', 'counter')),
    content       JSONB NOT NULL,
    form_schema   JSONB NOT NULL,
    ui_schema     JSONB,
    -- normalised (lower case, no accents) name and text per language, computed by guichet
    search        JSONB NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    published_at  TIMESTAMPTZ,
    superseded_at TIMESTAMPTZ,
    UNIQUE (service_id, version)
);

-- One row, bumped in the same transaction as every catalogue change: instances poll it to
-- know when their in-process copy of the published catalogue is stale.
CREATE TABLE catalogue_revision (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    revision BIGINT NOT NULL
);
INSERT INTO catalogue_revision (id, revision) VALUES (1, 0);
