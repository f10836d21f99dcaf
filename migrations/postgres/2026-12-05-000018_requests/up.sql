-- What a department asks an applicant for with a move to action_required (fields to change,
-- documents to add; a JSON array, NULL when nothing is asked), by when (the day, as its
-- midnight UTC), and which request an uploaded document answers.
ALTER TABLE applications ADD COLUMN requests JSONB;
ALTER TABLE applications ADD COLUMN requests_due_on TIMESTAMPTZ;
ALTER TABLE documents ADD COLUMN request_id UUID;
-- the clerks' queue of answers overdue
CREATE INDEX applications_requests_due_idx ON applications (department_id, requests_due_on) WHERE requests_due_on IS NOT NULL;
