DROP TABLE jobs;
DROP INDEX applications_retention_idx;
DELETE FROM applications WHERE anonymised_at IS NOT NULL;
PRAGMA writable_schema = ON;
UPDATE sqlite_master
    SET sql = replace(sql,
        'CHECK (anonymised_at IS NOT NULL OR (applicant_account IS NULL) <> (applicant_organisation IS NULL))',
        'CHECK ((applicant_account IS NULL) <> (applicant_organisation IS NULL))')
    WHERE type = 'table' AND name = 'applications';
PRAGMA writable_schema = OFF;
ALTER TABLE applications DROP COLUMN anonymised_at;
ALTER TABLE applications DROP COLUMN retain_until;
ALTER TABLE applications DROP COLUMN closed_at;
