ALTER TABLE clients DROP COLUMN is_public;
