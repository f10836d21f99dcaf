DROP TABLE jobs;
DROP INDEX applications_retention_idx;
DELETE FROM applications WHERE anonymised_at IS NOT NULL;
ALTER TABLE applications DROP CONSTRAINT applications_one_applicant;
ALTER TABLE applications ADD CONSTRAINT applications_check CHECK ((applicant_account IS NULL) <> (applicant_organisation IS NULL));
ALTER TABLE applications DROP COLUMN anonymised_at;
ALTER TABLE applications DROP COLUMN retain_until;
ALTER TABLE applications DROP COLUMN closed_at;
