-- Applications for services, their history and documents; idempotency keys; domain events.
CREATE TABLE applications (
    id                     TEXT NOT NULL PRIMARY KEY,
    -- set on submission: THU-2026-7Q4KM2XD-J
    reference              TEXT UNIQUE,
    -- given to the applicant only; with the reference it opens the public tracking page
    tracking_code          TEXT,
    service_id             TEXT NOT NULL REFERENCES services (id),
    service_version        INTEGER NOT NULL,
    department_id          TEXT NOT NULL REFERENCES departments (id),
    applicant_account      TEXT REFERENCES accounts (id),
    applicant_organisation TEXT REFERENCES organisations (id),
    created_by             TEXT NOT NULL,
    phase                  TEXT NOT NULL CHECK (phase IN ('draft', 'submitted', 'in_review', 'action_required', 'approved', 'rejected', 'completed', 'withdrawn')),
    step                   TEXT NOT NULL,
    -- when each step was entered, [{"step": key, "at": time}], for the applicant's timeline
    step_log               TEXT NOT NULL,
    data                   TEXT NOT NULL,
    assignee_id            TEXT REFERENCES accounts (id),
    revision               BIGINT NOT NULL DEFAULT 1,
    created_at             TEXT NOT NULL,
    updated_at             TEXT NOT NULL,
    submitted_at           TEXT,
    status_changed_at      TEXT NOT NULL,
    -- the expected decision date while the application is open; NULL otherwise
    due_at                 TEXT,
    CHECK ((applicant_account IS NULL) <> (applicant_organisation IS NULL)),
    CHECK ((phase = 'draft') = (submitted_at IS NULL))
);
-- the applicant's list, newest first
CREATE INDEX applications_account_idx ON applications (applicant_account, created_at, id) WHERE applicant_account IS NOT NULL;
CREATE INDEX applications_organisation_idx ON applications (applicant_organisation, created_at, id) WHERE applicant_organisation IS NOT NULL;
-- the work queue: department + phase by submission time; assignee + phase; overdue by due date
CREATE INDEX applications_queue_idx ON applications (department_id, phase, submitted_at, id);
CREATE INDEX applications_assignee_idx ON applications (assignee_id, phase, submitted_at, id) WHERE assignee_id IS NOT NULL;
CREATE INDEX applications_due_idx ON applications (department_id, due_at, id) WHERE due_at IS NOT NULL;

CREATE TABLE application_history (
    id             TEXT NOT NULL PRIMARY KEY,
    application_id TEXT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    occurred_at    TEXT NOT NULL,
    actor_kind     TEXT NOT NULL,
    actor_id       TEXT,
    action         TEXT NOT NULL,
    from_phase     TEXT,
    to_phase       TEXT,
    from_step      TEXT,
    to_step        TEXT,
    public_comment TEXT,
    internal_note  TEXT,
    details        TEXT NOT NULL
);
CREATE INDEX application_history_application_idx ON application_history (application_id, occurred_at, id);

CREATE TABLE documents (
    id             TEXT NOT NULL PRIMARY KEY,
    application_id TEXT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    filename       TEXT NOT NULL,
    media_type     TEXT NOT NULL,
    size_bytes     BIGINT NOT NULL,
    sha256         TEXT NOT NULL,
    storage_key    TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    created_by     TEXT NOT NULL
);
CREATE INDEX documents_application_idx ON documents (application_id, created_at, id);

-- Idempotency-Key: the first final answer to a (caller, endpoint, key), kept 24 h.
CREATE TABLE idempotency_keys (
    owner        TEXT NOT NULL,
    endpoint     TEXT NOT NULL,
    key          TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    -- NULL while the first request is still being processed
    status       INTEGER,
    headers      TEXT,
    body         TEXT,
    created_at   TEXT NOT NULL,
    locked_until TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    PRIMARY KEY (owner, endpoint, key)
);
CREATE INDEX idempotency_keys_expiry_idx ON idempotency_keys (expires_at);

-- Domain events, written in the transaction of the change. `position` orders the feed: it is
-- given in the inserting transaction: SQLite has one writer at a time, so positions follow
-- commit order and a reader going by position never skips an event.
CREATE TABLE events (
    id                     TEXT NOT NULL PRIMARY KEY,
    position               INTEGER NOT NULL UNIQUE,
    type                   TEXT NOT NULL,
    occurred_at            TEXT NOT NULL,
    subject_type           TEXT NOT NULL,
    subject_id             TEXT NOT NULL,
    department_id          TEXT,
    applicant_account      TEXT,
    applicant_organisation TEXT,
    data                   TEXT NOT NULL
);
