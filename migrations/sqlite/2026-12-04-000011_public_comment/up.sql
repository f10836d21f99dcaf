-- SQLite twin of migrations/postgres: the department's latest public comment on the application.
ALTER TABLE applications ADD COLUMN public_comment TEXT;
ALTER TABLE applications ADD COLUMN public_comment_at TEXT;
UPDATE applications
SET public_comment = (
        SELECT h.public_comment FROM application_history h
        WHERE h.application_id = applications.id AND h.public_comment IS NOT NULL AND h.actor_kind = 'staff'
        ORDER BY h.occurred_at DESC LIMIT 1),
    public_comment_at = (
        SELECT h.occurred_at FROM application_history h
        WHERE h.application_id = applications.id AND h.public_comment IS NOT NULL AND h.actor_kind = 'staff'
        ORDER BY h.occurred_at DESC LIMIT 1);
