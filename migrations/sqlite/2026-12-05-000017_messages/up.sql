-- The thread of an application: messages between its applicant side and the responsible
-- department (docs/API.md, "Messages"), and how far each side has read.
CREATE TABLE application_messages (
    id             TEXT PRIMARY KEY,
    application_id TEXT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    -- 'applicant' or 'department'
    side           TEXT NOT NULL,
    -- who wrote it: the actor's kind and id, as in the history
    author_kind    TEXT NOT NULL,
    author_id      TEXT NOT NULL,
    body           TEXT NOT NULL,
    -- ids of documents of the application, a JSON array
    documents      TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    CONSTRAINT application_messages_side CHECK (side IN ('applicant', 'department'))
);
CREATE INDEX application_messages_thread_idx ON application_messages (application_id, created_at, id);

CREATE TABLE application_message_reads (
    application_id TEXT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    side           TEXT NOT NULL,
    -- the last message this side has read, and when it was written (the thread's order)
    up_to          TEXT NOT NULL,
    up_to_at       TEXT NOT NULL,
    read_at        TEXT NOT NULL,
    PRIMARY KEY (application_id, side)
);
