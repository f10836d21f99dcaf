-- pgbench: the primary-key lookup behind GET /v1/applications/{id}, on the generated rows.
\set n random(1, :apps)
SELECT * FROM applications WHERE id = md5('guichet-bench-app-' || :n)::uuid;
