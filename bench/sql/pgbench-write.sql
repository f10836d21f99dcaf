-- pgbench: what guichet writes for one create-and-submit (POST /v1/applications with
-- "submit": true), statement for statement, in one transaction: the application, already
-- submitted, inserted unless its reference is taken; then the history entries, audit entries
-- and events of both changes (created, submitted), one multi-row insert per table.
\set r random(1, 1000000000)
BEGIN;
INSERT INTO applications (id, reference, tracking_code, service_id, service_version, department_id, applicant_account,
  created_by, phase, step, step_log, data, revision, created_at, updated_at, submitted_at, status_changed_at, due_at)
VALUES (gen_random_uuid(), 'THU-2026-' || gen_random_uuid()::text, md5(:r::text), :service::uuid, 1, :department::uuid, :account::uuid,
  :account, 'submitted', 'submitted',
  jsonb_build_array(jsonb_build_object('step', 'draft', 'at', now()), jsonb_build_object('step', 'submitted', 'at', now())),
  '{"last_name": "Muster", "first_name": "Anna", "birth_date": "1990-02-28", "address": {"street": "Hofstettenstrasse", "house_number": "14", "postal_code": "3600", "city": "Thun"}, "purpose": "employer", "copies": 1, "delivery": "post", "email": "anna@example.ch", "phone": "+41332258498"}',
  2, now(), now(), now(), now(), now() + interval '5 days')
ON CONFLICT (reference) DO NOTHING
RETURNING id AS app \gset
INSERT INTO application_history (id, application_id, occurred_at, actor_kind, actor_id, action, from_phase, to_phase, from_step, to_step, details)
VALUES (gen_random_uuid(), :app::uuid, now(), 'resident', :account, 'created', NULL, NULL, NULL, NULL, '{}'),
  (gen_random_uuid(), :app::uuid, now(), 'resident', :account, 'submitted', 'draft', 'submitted', 'draft', 'submitted', '{}');
INSERT INTO audit_events (id, occurred_at, actor_kind, actor_id, action, target_type, target_id, outcome, ip, request_id, details)
VALUES (gen_random_uuid(), now(), 'resident', :account, 'application.created', 'application', :app, 'success', '127.0.0.1', gen_random_uuid()::text,
  '{"phase": "draft", "step": "draft", "revision": 1}'),
  (gen_random_uuid(), now(), 'resident', :account, 'application.submitted', 'application', :app, 'success', '127.0.0.1', gen_random_uuid()::text,
  '{"phase": "submitted", "step": "submitted", "revision": 2, "from_phase": "draft"}');
INSERT INTO events (id, type, occurred_at, subject_type, subject_id, department_id, applicant_account, data)
VALUES (gen_random_uuid(), 'application.created', now(), 'application', :app, :department::uuid, :account::uuid,
  jsonb_build_object('application', :app::uuid, 'service', :service::uuid, 'service_version', 1, 'phase', 'draft', 'step', 'draft', 'revision', 1)),
  (gen_random_uuid(), 'application.submitted', now(), 'application', :app, :department::uuid, :account::uuid,
  jsonb_build_object('application', :app::uuid, 'service', :service::uuid, 'service_version', 1, 'phase', 'submitted', 'step', 'submitted', 'revision', 2, 'from_phase', 'draft', 'from_step', 'draft'));
COMMIT;
