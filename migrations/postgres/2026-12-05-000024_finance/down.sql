DROP INDEX invoices_department_idx;
DROP INDEX invoices_issued_idx;
ALTER TABLE payments DROP COLUMN matched_at;
ALTER TABLE payments DROP COLUMN matched_by;
UPDATE accounts SET role = 'clerk' WHERE role = 'finance';
ALTER TABLE accounts DROP CONSTRAINT accounts_role_check;
ALTER TABLE accounts ADD CONSTRAINT accounts_role_check CHECK (role IN ('clerk', 'admin'));
