-- An operator can create a verified organisation for a partner system without any person
-- (`guichet organisation create` without --owner): no account created it.
ALTER TABLE organisations ALTER COLUMN created_by DROP NOT NULL;
