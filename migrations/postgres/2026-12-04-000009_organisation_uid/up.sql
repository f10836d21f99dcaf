-- A pending registration no longer reserves its UID: several may be pending (one of them the
-- real company's), and only one organisation per UID can be verified.
ALTER TABLE organisations DROP CONSTRAINT organisations_uid_key;
CREATE UNIQUE INDEX organisations_verified_uid_idx ON organisations (uid) WHERE status = 'verified';
CREATE INDEX organisations_uid_idx ON organisations (uid);
CREATE INDEX organisations_created_by_idx ON organisations (created_by, status);
