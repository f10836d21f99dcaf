DROP INDEX clients_department_idx;
ALTER TABLE clients DROP CONSTRAINT clients_one_owner;
ALTER TABLE clients DROP COLUMN department_id;
