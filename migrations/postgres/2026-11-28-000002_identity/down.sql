DROP TRIGGER audit_events_no_update ON audit_events;
DROP FUNCTION audit_events_append_only();
DROP TABLE audit_events;
DROP TABLE security_revision;
DROP TABLE revoked_tokens;
DROP TABLE refresh_tokens;
DROP TABLE clients;
DROP TABLE accounts;
DROP TABLE signing_keys;
