DROP INDEX organisations_created_by_idx;
DROP INDEX organisations_uid_idx;
DROP INDEX organisations_verified_uid_idx;
ALTER TABLE organisations ADD CONSTRAINT organisations_uid_key UNIQUE (uid);
