ALTER TABLE service_versions DROP COLUMN revision;
