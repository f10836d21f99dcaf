DROP TABLE events;
DROP TABLE idempotency_keys;
DROP TABLE documents;
DROP TABLE application_history;
DROP TABLE applications;
