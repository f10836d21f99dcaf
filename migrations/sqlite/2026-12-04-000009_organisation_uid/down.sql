DROP INDEX organisations_created_by_idx;
DROP INDEX organisations_uid_idx;
DROP INDEX organisations_verified_uid_idx;
CREATE UNIQUE INDEX organisations_uid_key ON organisations (uid);
