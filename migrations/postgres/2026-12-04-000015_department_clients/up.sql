-- A back-office system of a department: a client that reads and processes the department's
-- applications as its clerks do. A client acts for an organisation or a department, not both.
ALTER TABLE clients ADD COLUMN department_id UUID REFERENCES departments (id);
ALTER TABLE clients ADD CONSTRAINT clients_one_owner CHECK (organisation_id IS NULL OR department_id IS NULL);
CREATE INDEX clients_department_idx ON clients (department_id);
