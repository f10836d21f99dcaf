DROP INDEX clients_organisation_idx;
DROP TABLE memberships;
DROP TABLE organisations;
