-- Finance staff: a staff role that sees the bills (of every department, or of the one it is
-- bound to) and books the bank's payments, without reading the applications' forms.
ALTER TABLE accounts DROP CONSTRAINT accounts_role_check;
ALTER TABLE accounts ADD CONSTRAINT accounts_role_check CHECK (role IN ('clerk', 'admin', 'finance'));
-- who assigned a payment by hand, and when (NULL: matched by its reference on import)
ALTER TABLE payments ADD COLUMN matched_by TEXT;
ALTER TABLE payments ADD COLUMN matched_at TIMESTAMPTZ;
-- the bills of a period (the summary and the accounting export), and of a department
CREATE INDEX invoices_issued_idx ON invoices (issued_at, id);
CREATE INDEX invoices_department_idx ON invoices (department_id, issued_at, id);
