-- Drafts are edited with If-Match: each version keeps a revision counter.
ALTER TABLE service_versions ADD COLUMN revision INTEGER NOT NULL DEFAULT 1;
