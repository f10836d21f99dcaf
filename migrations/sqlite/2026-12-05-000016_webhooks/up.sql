-- Webhook endpoints of an organisation, a department or the administrators (neither owner
-- column set), and the deliveries of events to them (docs/API.md, "Webhooks").
CREATE TABLE webhook_endpoints (
    id                         TEXT PRIMARY KEY,
    organisation_id            TEXT REFERENCES organisations (id),
    department_id              TEXT REFERENCES departments (id),
    url                        TEXT NOT NULL,
    -- the event types delivered, a JSON array; empty: every type
    event_types                TEXT NOT NULL,
    enabled                    BOOLEAN NOT NULL,
    description                TEXT NOT NULL,
    -- the language of the labels in the delivered applications
    language                   TEXT NOT NULL,
    -- the signing secret (whsec_...), and the one it replaced while both sign
    secret                     TEXT NOT NULL,
    previous_secret            TEXT,
    previous_secret_expires_at TEXT,
    -- the fan-out cursor: events up to this position are queued as deliveries
    position                   BIGINT NOT NULL,
    -- why delivery stopped (set when guichet disabled the endpoint)
    disabled_reason            TEXT,
    revision                   BIGINT NOT NULL,
    created_by                 TEXT NOT NULL,
    created_at                 TEXT NOT NULL,
    updated_at                 TEXT NOT NULL,
    CONSTRAINT webhook_endpoints_one_owner CHECK (organisation_id IS NULL OR department_id IS NULL)
);
CREATE INDEX webhook_endpoints_organisation_idx ON webhook_endpoints (organisation_id);
CREATE INDEX webhook_endpoints_department_idx ON webhook_endpoints (department_id);

-- One event (or a test ping) for one endpoint. What is needed to send it is copied from the
-- event, so a delivery outlives the event's retention.
CREATE TABLE webhook_deliveries (
    id              TEXT PRIMARY KEY,
    endpoint_id     TEXT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    -- the event's id (webhook-id); the same on every attempt
    event_id        TEXT NOT NULL,
    event_type      TEXT NOT NULL,
    occurred_at     TEXT NOT NULL,
    -- the event's position; NULL for a ping
    position        BIGINT,
    subject_type    TEXT NOT NULL,
    subject_id      TEXT NOT NULL,
    -- waiting (behind an earlier event of the same application), pending, delivered, failed
    state           TEXT NOT NULL,
    attempts        INTEGER NOT NULL,
    next_attempt_at TEXT NOT NULL,
    -- a process sending it holds it until then; another takes it over after
    lease_until     TEXT,
    created_at      TEXT NOT NULL,
    finished_at     TEXT
);
CREATE UNIQUE INDEX webhook_deliveries_event_idx ON webhook_deliveries (endpoint_id, event_id);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (endpoint_id, next_attempt_at) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_order_idx ON webhook_deliveries (endpoint_id, subject_id, position) WHERE state IN ('pending', 'waiting');

-- Every attempt, for the delivery log.
CREATE TABLE webhook_attempts (
    id           TEXT PRIMARY KEY,
    delivery_id  TEXT NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    endpoint_id  TEXT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    attempted_at TEXT NOT NULL,
    -- delivered, failed
    outcome      TEXT NOT NULL,
    http_status  INTEGER,
    latency_ms   INTEGER NOT NULL,
    error        TEXT,
    -- the first 1 KB of the answer
    response     TEXT
);
CREATE INDEX webhook_attempts_endpoint_idx ON webhook_attempts (endpoint_id, id);
CREATE INDEX webhook_attempts_delivery_idx ON webhook_attempts (delivery_id);
