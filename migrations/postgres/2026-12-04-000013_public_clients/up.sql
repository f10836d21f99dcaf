-- A public client (RFC 6749 §2.1): a first-party frontend that cannot keep a secret. It names
-- itself by client_id on the password, refresh and revocation requests and has no secret.
ALTER TABLE clients ADD COLUMN is_public BOOLEAN NOT NULL DEFAULT FALSE;
