-- Retention: when an application was closed (rejected, completed, withdrawn), until when its
-- personal data and documents are kept (closed_at + the service version's retention_days),
-- and when they were removed.
ALTER TABLE applications ADD COLUMN closed_at TIMESTAMPTZ;
ALTER TABLE applications ADD COLUMN retain_until TIMESTAMPTZ;
ALTER TABLE applications ADD COLUMN anonymised_at TIMESTAMPTZ;
-- applications closed before: the default of ten years from their last change
UPDATE applications SET closed_at = status_changed_at,
    retain_until = status_changed_at + interval '3650 days'
    WHERE phase IN ('rejected', 'completed', 'withdrawn');
-- an anonymised application has no applicant any more: the check that an application has
-- exactly one holds for the others
ALTER TABLE applications DROP CONSTRAINT applications_check;
ALTER TABLE applications ADD CONSTRAINT applications_one_applicant
    CHECK (anonymised_at IS NOT NULL OR (applicant_account IS NULL) <> (applicant_organisation IS NULL));
CREATE INDEX applications_retention_idx ON applications (retain_until)
    WHERE retain_until IS NOT NULL AND anonymised_at IS NULL;
-- Jobs that one instance at a time runs on a schedule (the daily retention run): whoever
-- takes the lease runs it; a lease that ran out (a killed process) is taken over.
CREATE TABLE jobs (
    name TEXT PRIMARY KEY,
    next_run_at TIMESTAMPTZ NOT NULL,
    lease_until TIMESTAMPTZ,
    lease_owner TEXT,
    last_run_at TIMESTAMPTZ
);
INSERT INTO jobs (name, next_run_at) VALUES ('retention', '1970-01-01T00:00:00Z');
