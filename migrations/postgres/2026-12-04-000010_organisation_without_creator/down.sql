-- Fails while an organisation an operator created exists (remove it first; nothing is deleted here).
ALTER TABLE organisations ALTER COLUMN created_by SET NOT NULL;
