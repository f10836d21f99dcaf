DROP INDEX applications_requests_due_idx;
ALTER TABLE documents DROP COLUMN request_id;
ALTER TABLE applications DROP COLUMN requests_due_on;
ALTER TABLE applications DROP COLUMN requests;
