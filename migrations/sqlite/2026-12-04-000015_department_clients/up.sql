-- A back-office system of a department: a client that reads and processes the department's
-- applications as its clerks do. A client acts for an organisation or a department, not both
-- (checked where clients are made: SQLite cannot add a CHECK to an existing table).
ALTER TABLE clients ADD COLUMN department_id TEXT REFERENCES departments (id);
CREATE INDEX clients_department_idx ON clients (department_id);
