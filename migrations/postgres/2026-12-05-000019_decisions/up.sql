-- Who added a document, from which side (the applicant's, or the department's), and whether
-- it is a decision of the department (a permit, a ruling), which stays once given.
ALTER TABLE documents ADD COLUMN side TEXT NOT NULL DEFAULT 'applicant';
ALTER TABLE documents ADD COLUMN decision BOOLEAN NOT NULL DEFAULT false;
