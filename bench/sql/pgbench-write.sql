-- pgbench: what guichet writes for one create-and-submit (POST /v1/applications with
-- "submit": true, no Idempotency-Key, a billed service), statement for statement and in the
-- same order (PostgreSQL's statement log of one request, 2026-12-16): the applicant's contact
-- read (its language, as the request names none, and its mail address); then one statement
-- without a transaction of its own (PostgreSQL's data-modifying WITH, as guichet's
-- db::records, and Db::write_one): the application, already submitted; its bill (CHF 20, a QR
-- reference); the receipt mail queued in the outbox (its text and HTML as long as guichet's;
-- due never, so that the idle guichet beside it does not send pgbench's mails); and the
-- history entries, audit entries and events of the three changes (created, submitted,
-- invoice_issued), one multi-row insert per table. 2 round trips (5 until 2026-12-16: BEGIN,
-- the contact, the application, the records, COMMIT).
-- guichet chooses the application's id itself (a UUIDv7) and sends it with each row; here it
-- is md5(:u) as a UUID. Not here, as not in the request's statement: the event sequencer
-- numbering the events and the mail worker sending the mail, after the commit.
\set r random(1, 1000000000)
\set u random(1, 9223372036854775806)
SELECT language, optional_mail, CASE WHEN disabled_at IS NULL AND email IS NOT NULL
  AND (email_verified_at IS NOT NULL OR external_issuer IS NOT NULL) THEN email END
  FROM accounts WHERE id = :account::uuid LIMIT 1;
WITH a AS (
INSERT INTO applications (id, reference, tracking_code, service_id, service_version, department_id, applicant_account,
  created_by, phase, step, step_log, data, revision, created_at, updated_at, submitted_at, status_changed_at, due_at,
  language, payment)
VALUES (md5(:u::text)::uuid, 'THU-2026-' || gen_random_uuid()::text, md5(:r::text), :service::uuid, 1, :department::uuid, :account::uuid,
  :account, 'submitted', 'submitted',
  jsonb_build_array(jsonb_build_object('step', 'draft', 'at', now()), jsonb_build_object('step', 'submitted', 'at', now())),
  '{"last_name": "Muster", "first_name": "Anna", "birth_date": "1990-02-28", "address": {"street": "Hofstettenstrasse", "house_number": "14", "postal_code": "3600", "city": "Thun"}, "purpose": "employer", "copies": 1, "delivery": "post", "email": "anna@example.ch", "phone": "+41332258498"}',
  2, now(), now(), now(), now(), now() + interval '5 days', 'de',
  '{"status": "due", "amount": 2000, "paid_amount": 0, "currency": "CHF", "due_on": "2027-01-04"}')
), s0 AS (
INSERT INTO invoices (id, application_id, number, department_id, status, amount, paid_amount, currency, reference_type,
  reference, iban, creditor, debtor, message, issued_at, due_on, revision, updated_at)
VALUES (gen_random_uuid(), md5(:u::text)::uuid, 1, :department::uuid, 'due', 2000, 0, 'CHF', 'QRR',
  lpad(:u::text, 27, '0'), 'CH4431999123000889012',
  '{"name": "Stadt Thun, Einwohnerdienste", "town": "Thun", "street": "Hofstettenstrasse", "country": "CH", "postal_code": "3602", "house_number": "14"}',
  '{"name": "Anna Muster", "town": "Thun", "street": "Hofstettenstrasse", "country": "CH", "postal_code": "3600", "house_number": "14"}',
  'Wohnsitzbestätigung bestellen THU-2026-Y3P37VH0-5', now(), now() + interval '30 days', 1, now())
), s1 AS (
INSERT INTO mail_outbox (id, recipient, subject, body, html, created_at, next_attempt_at, attempts)
VALUES (gen_random_uuid(), 'bench-65@bench.invalid', 'Ihr Gesuch THU-2026-Y3P37VH0-5 ist eingegangen', repeat('Guten Tag. ', 42),
  repeat('<p>Guten Tag.</p> ', 50), now(), 'infinity', 0)
), s2 AS (
INSERT INTO application_history (id, application_id, occurred_at, actor_kind, actor_id, action, from_phase, to_phase, from_step, to_step, details)
VALUES (gen_random_uuid(), md5(:u::text)::uuid, now(), 'resident', :account, 'created', NULL, NULL, NULL, NULL, '{}'),
  (gen_random_uuid(), md5(:u::text)::uuid, now(), 'resident', :account, 'submitted', 'draft', 'submitted', 'draft', 'submitted', '{}'),
  (gen_random_uuid(), md5(:u::text)::uuid, now(), 'resident', :account, 'invoice_issued', NULL, NULL, NULL, NULL,
   '{"invoice": {"amount": 2000, "due_on": "2027-01-04", "currency": "CHF", "reference": "000000020261034754977312011"}}')
), s3 AS (
INSERT INTO audit_events (id, occurred_at, actor_kind, actor_id, action, target_type, target_id, outcome, ip, request_id, details)
VALUES (gen_random_uuid(), now(), 'resident', :account, 'application.created', 'application', md5(:u::text)::uuid::text, 'success', '127.0.0.1', gen_random_uuid()::text,
  '{"phase": "draft", "step": "draft", "revision": 1}'),
  (gen_random_uuid(), now(), 'resident', :account, 'application.submitted', 'application', md5(:u::text)::uuid::text, 'success', '127.0.0.1', gen_random_uuid()::text,
  '{"phase": "submitted", "step": "submitted", "revision": 2, "from_phase": "draft"}'),
  (gen_random_uuid(), now(), 'resident', :account, 'application.invoice_issued', 'application', md5(:u::text)::uuid::text, 'success', '127.0.0.1', gen_random_uuid()::text,
  '{"phase": "submitted", "step": "submitted", "revision": 2, "invoice": {"amount": 2000, "currency": "CHF"}}')
)
INSERT INTO events (id, type, occurred_at, subject_type, subject_id, department_id, applicant_account, data)
VALUES (gen_random_uuid(), 'application.created', now(), 'application', md5(:u::text)::uuid::text, :department::uuid, :account::uuid,
  jsonb_build_object('application', md5(:u::text)::uuid, 'service', :service::uuid, 'service_version', 1, 'phase', 'draft', 'step', 'draft', 'revision', 1)),
  (gen_random_uuid(), 'application.submitted', now(), 'application', md5(:u::text)::uuid::text, :department::uuid, :account::uuid,
  jsonb_build_object('application', md5(:u::text)::uuid, 'service', :service::uuid, 'service_version', 1, 'phase', 'submitted', 'step', 'submitted', 'revision', 2, 'from_phase', 'draft', 'from_step', 'draft')),
  (gen_random_uuid(), 'application.invoice_issued', now(), 'application', md5(:u::text)::uuid::text, :department::uuid, :account::uuid,
  jsonb_build_object('application', md5(:u::text)::uuid, 'service', :service::uuid, 'service_version', 1, 'phase', 'submitted', 'step', 'submitted', 'revision', 2,
    'invoice', jsonb_build_object('amount', 2000, 'currency', 'CHF', 'due_on', '2027-01-04')));
