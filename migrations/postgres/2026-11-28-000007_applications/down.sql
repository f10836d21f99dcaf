DROP TABLE events;
DROP SEQUENCE events_position_seq;
DROP TABLE idempotency_keys;
DROP TABLE documents;
DROP TABLE application_history;
DROP TABLE applications;
