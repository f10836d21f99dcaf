DROP INDEX invoices_department_idx;
DROP INDEX invoices_issued_idx;
ALTER TABLE payments DROP COLUMN matched_at;
ALTER TABLE payments DROP COLUMN matched_by;
UPDATE accounts SET role = 'clerk' WHERE role = 'finance';
PRAGMA writable_schema = ON;
UPDATE sqlite_master
    SET sql = replace(sql, 'CHECK (role IN (''clerk'', ''admin'', ''finance''))', 'CHECK (role IN (''clerk'', ''admin''))')
    WHERE type = 'table' AND name = 'accounts';
PRAGMA writable_schema = OFF;
