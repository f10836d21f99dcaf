-- Fees billed with Swiss QR-bills: the account a department is paid to, and the bills of
-- applications (docs/API.md, "Fees and bills").
ALTER TABLE departments ADD COLUMN creditor JSONB;
-- the state of the application's bill, kept with it (the bill is the truth; this is read with
-- the application, in one query): domain::billing::PaymentState
ALTER TABLE applications ADD COLUMN payment JSONB;
CREATE TABLE invoices (
    id             UUID PRIMARY KEY,
    application_id UUID NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    -- the bill's number on its application (1, 2, ...): part of its reference
    number         INTEGER NOT NULL,
    department_id  UUID NOT NULL REFERENCES departments (id),
    status         TEXT NOT NULL CHECK (status IN ('due', 'partially_paid', 'paid', 'waived', 'refunded')),
    -- Rappen (cents)
    amount         BIGINT NOT NULL CHECK (amount >= 0),
    paid_amount    BIGINT NOT NULL DEFAULT 0,
    currency       TEXT NOT NULL CHECK (currency IN ('CHF', 'EUR')),
    reference_type TEXT NOT NULL CHECK (reference_type IN ('QRR', 'SCOR')),
    reference      TEXT NOT NULL UNIQUE,
    iban           TEXT NOT NULL,
    -- the creditor and the debtor as the bill shows them (domain::qrbill::Address)
    creditor       JSONB NOT NULL,
    debtor         JSONB,
    message        TEXT,
    issued_at      TIMESTAMPTZ NOT NULL,
    -- the due day (its midnight UTC)
    due_on         TIMESTAMPTZ NOT NULL,
    paid_at        TIMESTAMPTZ,
    -- why a clerk waived it or changed its amount
    reason         TEXT,
    revision       BIGINT NOT NULL DEFAULT 1,
    updated_at     TIMESTAMPTZ NOT NULL,
    UNIQUE (application_id, number)
);
-- finance's list of open bills per department, by due day
CREATE INDEX invoices_open_idx ON invoices (department_id, due_on, id) WHERE status IN ('due', 'partially_paid');
