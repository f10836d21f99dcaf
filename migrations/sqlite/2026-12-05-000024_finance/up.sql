-- Finance staff: a staff role that sees the bills (of every department, or of the one it is
-- bound to) and books the bank's payments, without reading the applications' forms. SQLite
-- cannot alter a CHECK: as in 000021, the table's definition is edited (every row satisfies
-- the wider check), and the index created below bumps the schema version.
PRAGMA writable_schema = ON;
UPDATE sqlite_master
    SET sql = replace(sql, 'CHECK (role IN (''clerk'', ''admin''))', 'CHECK (role IN (''clerk'', ''admin'', ''finance''))')
    WHERE type = 'table' AND name = 'accounts';
PRAGMA writable_schema = OFF;
-- who assigned a payment by hand, and when (NULL: matched by its reference on import)
ALTER TABLE payments ADD COLUMN matched_by TEXT;
ALTER TABLE payments ADD COLUMN matched_at TEXT;
-- the bills of a period (the summary and the accounting export), and of a department
CREATE INDEX invoices_issued_idx ON invoices (issued_at, id);
CREATE INDEX invoices_department_idx ON invoices (department_id, issued_at, id);
