-- SQLite twin of migrations/postgres: uuid and timestamptz as TEXT (RFC 3339, UTC), jsonb as JSON TEXT.
-- The service catalogue: categories, departments, services and their immutable versions.
CREATE TABLE categories (
    slug        TEXT NOT NULL PRIMARY KEY,
    label       TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

CREATE TABLE departments (
    id               TEXT NOT NULL PRIMARY KEY,
    slug             TEXT NOT NULL UNIQUE,
    name             TEXT NOT NULL,
    directorate      TEXT,
    email            TEXT,
    phone            TEXT,
    address          TEXT,
    website          TEXT,
    contact_verified TEXT NOT NULL,
    source           TEXT,
    revision         INTEGER NOT NULL DEFAULT 1,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);

CREATE TABLE services (
    id              TEXT NOT NULL PRIMARY KEY,
    slug            TEXT NOT NULL UNIQUE,
    department_id   TEXT NOT NULL REFERENCES departments (id),
    category        TEXT NOT NULL REFERENCES categories (slug),
    status          TEXT NOT NULL CHECK (status IN ('draft', 'active', 'retired')),
    current_version INTEGER,
    revision        INTEGER NOT NULL DEFAULT 1,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    retired_at      TEXT
);
CREATE INDEX services_department_idx ON services (department_id);

CREATE TABLE service_versions (
    id            TEXT NOT NULL PRIMARY KEY,
    service_id    TEXT NOT NULL REFERENCES services (id),
    version       INTEGER NOT NULL CHECK (version > 0),
    state         TEXT NOT NULL CHECK (state IN ('draft', 'published', 'superseded')),
    channel       TEXT NOT NULL CHECK (channel IN ('guichet', 'external', 'counter')),
    content       TEXT NOT NULL,
    form_schema   TEXT NOT NULL,
    ui_schema     TEXT,
    -- normalised (lower case, no accents) name and text per language, computed by guichet
    search        TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    published_at  TEXT,
    superseded_at TEXT,
    UNIQUE (service_id, version)
);

-- One row, bumped in the same transaction as every catalogue change: instances poll it to
-- know when their in-process copy of the published catalogue is stale.
CREATE TABLE catalogue_revision (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    revision INTEGER NOT NULL
);
INSERT INTO catalogue_revision (id, revision) VALUES (1, 0);
