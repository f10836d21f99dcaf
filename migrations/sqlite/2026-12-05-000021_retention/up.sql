-- Retention: when an application was closed (rejected, completed, withdrawn), until when its
-- personal data and documents are kept (closed_at + the service version's retention_days),
-- and when they were removed.
ALTER TABLE applications ADD COLUMN closed_at TEXT;
ALTER TABLE applications ADD COLUMN retain_until TEXT;
ALTER TABLE applications ADD COLUMN anonymised_at TEXT;
-- applications closed before: the default of ten years from their last change
UPDATE applications SET closed_at = status_changed_at,
    retain_until = strftime('%Y-%m-%dT%H:%M:%fZ', status_changed_at, '+3650 days')
    WHERE phase IN ('rejected', 'completed', 'withdrawn');
-- An anonymised application has no applicant any more: the check that an application has
-- exactly one holds for the others. SQLite cannot alter a CHECK; its documented procedure for
-- loosening one is to edit the table's definition (ALTER TABLE, "making other kinds of table
-- schema changes"). A rebuild is not possible here: the migration runs in a transaction, where
-- foreign keys stay on, and dropping the old table would cascade into history, messages and
-- documents. Every existing row satisfies the looser check; the index created below changes
-- the schema version, so every connection reloads the definition.
PRAGMA writable_schema = ON;
UPDATE sqlite_master
    SET sql = replace(sql,
        'CHECK ((applicant_account IS NULL) <> (applicant_organisation IS NULL))',
        'CHECK (anonymised_at IS NOT NULL OR (applicant_account IS NULL) <> (applicant_organisation IS NULL))')
    WHERE type = 'table' AND name = 'applications';
PRAGMA writable_schema = OFF;
CREATE INDEX applications_retention_idx ON applications (retain_until)
    WHERE retain_until IS NOT NULL AND anonymised_at IS NULL;
-- Jobs that one instance at a time runs on a schedule (the daily retention run): whoever
-- takes the lease runs it; a lease that ran out (a killed process) is taken over.
CREATE TABLE jobs (
    name TEXT PRIMARY KEY,
    next_run_at TEXT NOT NULL,
    lease_until TEXT,
    lease_owner TEXT,
    last_run_at TEXT
);
INSERT INTO jobs (name, next_run_at) VALUES ('retention', '1970-01-01T00:00:00.000000Z');
