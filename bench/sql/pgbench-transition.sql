-- pgbench: what guichet writes for one transition (POST /v1/applications/{id}/transitions by
-- the department's clerk), statement for statement and in the same order, in one transaction
-- (PostgreSQL's statement log of one request, 2026-12-05): the application read and locked,
-- with its resident's mail address and notice preference in sub-selects of the same read (the
-- new public step is news to the applicant; FOR UPDATE does not lock the account's row),
-- then one statement (PostgreSQL's data-modifying WITH, as guichet's db::records): the mail
-- queued in the outbox (as long as guichet's; due never, so that the idle guichet beside it
-- does not send pgbench's mails), one history entry, one audit entry and one event, and as its
-- main part the application updated (a new phase, so every index gains an entry, as guichet's
-- move does). BEGIN and COMMIT: 4 round trips (5 before 2026-12-19, when the update was a
-- statement of its own). The application is a random one of bench_pool (the submitted applications
-- of the clerk's department); its phase toggles between submitted and in_review, so that
-- every update changes the phase.
\set n random(1, :pool)
BEGIN;
SELECT a.id AS app, a.phase AS cur, a.revision AS rev, a.applicant_account AS acc,
  (SELECT email FROM accounts WHERE id = a.applicant_account AND disabled_at IS NULL AND email IS NOT NULL
    AND (email_verified_at IS NOT NULL OR external_issuer IS NOT NULL) LIMIT 1) AS mailto,
  (SELECT optional_mail FROM accounts WHERE id = a.applicant_account LIMIT 1) AS optional
FROM applications a
JOIN bench_pool p ON p.id = a.id
WHERE p.n = :n AND a.department_id = :department::uuid AND a.submitted_at IS NOT NULL FOR UPDATE OF a \gset
WITH s0 AS (
INSERT INTO mail_outbox (id, recipient, subject, body, html, created_at, next_attempt_at, attempts)
VALUES (gen_random_uuid(), 'bench-1@bench.invalid', 'Neuer Stand Ihres Gesuchs THU-2026-Y3P37VH0-5', repeat('Guten Tag. ', 40),
  repeat('<p>Guten Tag.</p> ', 48), now(), 'infinity', 0)
), s1 AS (
INSERT INTO application_history (id, application_id, occurred_at, actor_kind, actor_id, action, from_phase, to_phase, from_step, to_step, details)
VALUES (gen_random_uuid(), :app::uuid, now(), 'staff', :clerk, 'status_changed', :cur::text, 'in_review', :cur::text, 'in_review', '{}')
), s2 AS (
INSERT INTO audit_events (id, occurred_at, actor_kind, actor_id, action, target_type, target_id, outcome, ip, request_id, details)
VALUES (gen_random_uuid(), now(), 'staff', :clerk, 'application.status_changed', 'application', :app, 'success', '127.0.0.1',
  gen_random_uuid()::text, jsonb_build_object('phase', 'in_review', 'step', 'in_review', 'revision', :rev + 1, 'from_phase', :cur::text))
), s3 AS (
INSERT INTO events (id, type, occurred_at, subject_type, subject_id, department_id, applicant_account, data)
VALUES (gen_random_uuid(), 'application.status_changed', now(), 'application', :app, :department::uuid, :acc::uuid,
  jsonb_build_object('application', :app::uuid, 'phase', 'in_review', 'step', 'in_review', 'revision', :rev + 1,
    'from_phase', :cur::text, 'from_step', :cur::text))
)
UPDATE applications SET phase = CASE phase WHEN 'submitted' THEN 'in_review' ELSE 'submitted' END,
  step = CASE phase WHEN 'submitted' THEN 'in_review' ELSE 'submitted' END,
  step_log = step_log || jsonb_build_array(jsonb_build_object('step', 'in_review', 'at', now())),
  data = data, revision = revision + 1, updated_at = now(), status_changed_at = now()
WHERE id = :app::uuid AND revision = :rev;
COMMIT;
