-- Benchmark dataset for PostgreSQL: :apps applications by :accounts residents, across the
-- published guichet-channel services of the seeded Thun catalogue, with a realistic spread of
-- phases, submission dates over two years, due dates on open applications (some overdue) and
-- a share of the bench clerk's department assigned to the clerk (:clerk).
--   psql -v apps=1000000 -v accounts=100000 -v clerk=<uuid> -v template=<email> -f bench/sql/dataset.sql
-- Ids are md5-derived (guichet-bench-app-N), so pgbench can look up the same rows by key.
-- Residents 1..128 get the password of the :template account (for tokens); the rest none.
\set ON_ERROR_STOP on
SET synchronous_commit = off;

INSERT INTO accounts (id, email, password_hash, kind, email_verified_at, created_at, updated_at)
SELECT md5('guichet-bench-account-' || k)::uuid,
       'bench-' || k || '@bench.invalid',
       CASE WHEN k <= 128 THEN (SELECT password_hash FROM accounts WHERE email = :'template') END,
       'resident', now(), now() - interval '800 days', now() - interval '800 days'
FROM generate_series(1, :accounts) AS k;

CREATE TEMP TABLE bench_services AS
SELECT row_number() OVER (ORDER BY s.slug) - 1 AS i, s.id, v.version, s.department_id
FROM services s JOIN service_versions v ON v.service_id = s.id AND v.version = s.current_version
WHERE v.channel = 'guichet' AND s.status = 'active';

WITH base AS MATERIALIZED (
  SELECT n,
         -- a fixed pseudo-random number in [0, 1) per application and purpose
         ('x' || substr(md5('p' || n), 1, 8))::bit(32)::bigint / 4294967296.0 AS r_phase,
         ('x' || substr(md5('t' || n), 1, 8))::bit(32)::bigint / 4294967296.0 AS r_time,
         ('x' || substr(md5('s' || n), 1, 8))::bit(32)::bigint AS r_service,
         ('x' || substr(md5('a' || n), 1, 8))::bit(32)::bigint AS r_account,
         ('x' || substr(md5('r' || n), 1, 10))::bit(40)::bigint AS r_ref
  FROM generate_series(1, :apps) AS n
), phased AS (
  SELECT b.*, s.id AS service_id, s.version, s.department_id,
         CASE
           WHEN r_phase < 0.12 THEN 'draft'
           WHEN r_phase < 0.24 THEN 'submitted'
           WHEN r_phase < 0.39 THEN 'in_review'
           WHEN r_phase < 0.43 THEN 'action_required'
           WHEN r_phase < 0.48 THEN 'approved'
           WHEN r_phase < 0.52 THEN 'rejected'
           WHEN r_phase < 0.55 THEN 'withdrawn'
           ELSE 'completed'
         END AS phase
  FROM base b JOIN bench_services s ON s.i = b.r_service % (SELECT count(*) FROM bench_services)
), shaped AS MATERIALIZED (
  -- open applications are recent (the last 30 days, so about half are past their due date);
  -- decided ones spread over two years
  SELECT p.*, now() - r_time * CASE WHEN phase IN ('draft', 'submitted', 'in_review', 'action_required')
                                    THEN interval '30 days' ELSE interval '730 days' END AS created
  FROM phased p
)
INSERT INTO applications (id, reference, tracking_code, service_id, service_version, department_id,
  applicant_account, created_by, phase, step, step_log, data, assignee_id, revision,
  created_at, updated_at, submitted_at, status_changed_at, due_at)
SELECT md5('guichet-bench-app-' || n)::uuid,
       CASE WHEN phase <> 'draft' THEN
         'THU-' || extract(year FROM created)::int || '-' ||
         substr('0123456789ABCDEFGHJKMNPQRSTVWXYZ', ((r_ref >> 35) & 31)::int + 1, 1) || substr('0123456789ABCDEFGHJKMNPQRSTVWXYZ', ((r_ref >> 30) & 31)::int + 1, 1) || substr('0123456789ABCDEFGHJKMNPQRSTVWXYZ', ((r_ref >> 25) & 31)::int + 1, 1) || substr('0123456789ABCDEFGHJKMNPQRSTVWXYZ', ((r_ref >> 20) & 31)::int + 1, 1) || substr('0123456789ABCDEFGHJKMNPQRSTVWXYZ', ((r_ref >> 15) & 31)::int + 1, 1) || substr('0123456789ABCDEFGHJKMNPQRSTVWXYZ', ((r_ref >> 10) & 31)::int + 1, 1) || substr('0123456789ABCDEFGHJKMNPQRSTVWXYZ', ((r_ref >> 5) & 31)::int + 1, 1) || substr('0123456789ABCDEFGHJKMNPQRSTVWXYZ', ((r_ref >> 0) & 31)::int + 1, 1) || '-' ||
         substr('0123456789ABCDEFGHJKMNPQRSTVWXYZ*~$=U', (r_ref % 37)::int + 1, 1)
       END,
       CASE WHEN phase <> 'draft' THEN md5('code' || n) END,
       service_id, version, department_id,
       md5('guichet-bench-account-' || (r_account % :accounts + 1))::uuid,
       md5('guichet-bench-account-' || (r_account % :accounts + 1))::uuid::text,
       phase, phase,
       jsonb_build_array(jsonb_build_object('step', 'draft', 'at', created))
         || CASE WHEN phase <> 'draft' THEN jsonb_build_array(jsonb_build_object('step', phase, 'at', created + interval '1 hour')) ELSE '[]'::jsonb END,
       jsonb_build_object(
         'last_name', 'Muster-' || n, 'first_name', 'Anna', 'birth_date', '1990-02-28',
         'address', jsonb_build_object('street', 'Hofstettenstrasse', 'house_number', (n % 200 + 1)::text,
                                       'postal_code', '3600', 'city', 'Thun'),
         'purpose', 'employer', 'copies', 1, 'delivery', 'post',
         'email', 'bench-' || n || '@example.ch', 'phone', '+41332258498',
         'remarks', 'Generated for the benchmark; about the size of a filled-in form.'),
       CASE WHEN phase = 'in_review' AND department_id = (SELECT department_id FROM accounts WHERE id = :'clerk')
                 AND n % 10 = 0 THEN :'clerk'::uuid END,
       CASE WHEN phase IN ('draft', 'submitted') THEN 1 ELSE 3 END,
       created, created + interval '1 hour',
       CASE WHEN phase <> 'draft' THEN created + interval '1 minute' END,
       created + interval '1 hour',
       CASE WHEN phase IN ('submitted', 'in_review', 'action_required') THEN created + interval '14 days' END
FROM shaped;

VACUUM ANALYZE accounts;
VACUUM ANALYZE applications;
