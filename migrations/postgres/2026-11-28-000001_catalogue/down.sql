DROP TABLE catalogue_revision;
DROP TABLE service_versions;
DROP TABLE services;
DROP TABLE departments;
DROP TABLE categories;
