ALTER TABLE documents DROP COLUMN decision;
ALTER TABLE documents DROP COLUMN side;
