-- The department's latest public comment to the applicant, on the application itself, so that
-- reading an application shows it without reading its history; filled from the history.
ALTER TABLE applications ADD COLUMN public_comment TEXT, ADD COLUMN public_comment_at TIMESTAMPTZ;
UPDATE applications a
SET public_comment = h.public_comment, public_comment_at = h.occurred_at
FROM (
    SELECT DISTINCT ON (application_id) application_id, public_comment, occurred_at
    FROM application_history
    WHERE public_comment IS NOT NULL AND actor_kind = 'staff'
    ORDER BY application_id, occurred_at DESC
) h
WHERE h.application_id = a.id;
