-- Threads for the message scenarios: 25 messages (alternately the applicant's and the
-- department's, about 260 bytes each) on every submitted application of the reading residents
-- 1..64. Idempotent (derived ids), so a reused dataset keeps its threads as they were.
--   psql -v clerk=<uuid> -f bench/sql/threads.sql
\set ON_ERROR_STOP on
INSERT INTO application_messages (id, application_id, side, author_kind, author_id, body, documents, created_at)
SELECT md5('guichet-bench-message-' || a.id || '-' || k)::uuid, a.id,
       CASE WHEN k % 2 = 0 THEN 'department' ELSE 'applicant' END,
       CASE WHEN k % 2 = 0 THEN 'staff' ELSE 'resident' END,
       CASE WHEN k % 2 = 0 THEN :'clerk' ELSE a.applicant_account::text END,
       'Nachricht ' || k || ': ' || repeat('Guten Tag, es fehlt noch eine Angabe zu Ihrem Gesuch. ', 5),
       '[]', a.submitted_at + k * interval '1 hour'
FROM applications a, generate_series(1, 25) AS k
WHERE a.applicant_account IN (SELECT md5('guichet-bench-account-' || i)::uuid FROM generate_series(1, 64) AS i)
  AND a.phase <> 'draft'
ON CONFLICT (id) DO NOTHING;
ANALYZE application_messages;
