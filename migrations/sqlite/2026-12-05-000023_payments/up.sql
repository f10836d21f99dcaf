-- Payments the bank reported (camt.054) and the notifications they came in; a payment is
-- recorded once, by the bank's own reference of the transaction.
CREATE TABLE bank_notifications (
    id          TEXT PRIMARY KEY,
    message_id  TEXT NOT NULL,
    version     TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    received_at TEXT NOT NULL,
    received_by TEXT NOT NULL,
    credits     INTEGER NOT NULL,
    recorded    INTEGER NOT NULL,
    matched     INTEGER NOT NULL
);
CREATE TABLE payments (
    id              TEXT PRIMARY KEY,
    bank_reference  TEXT NOT NULL UNIQUE,
    notification_id TEXT NOT NULL REFERENCES bank_notifications (id),
    invoice_id      TEXT REFERENCES invoices (id),
    -- matched (to a bill), unmatched (finance assigns it or returns the money)
    status          TEXT NOT NULL CHECK (status IN ('matched', 'unmatched')),
    -- why it is unmatched: unknown_reference, no_reference, currency, settled
    reason          TEXT,
    amount          BIGINT NOT NULL CHECK (amount > 0),
    currency        TEXT NOT NULL,
    booking_date    TEXT NOT NULL,
    reference       TEXT,
    debtor          TEXT,
    account         TEXT,
    recorded_at     TEXT NOT NULL
);
CREATE INDEX payments_unmatched_idx ON payments (recorded_at, id) WHERE status = 'unmatched';
CREATE INDEX payments_invoice_idx ON payments (invoice_id) WHERE invoice_id IS NOT NULL;
