ALTER TABLE applications DROP COLUMN represented;
