DROP TABLE invoices;
ALTER TABLE applications DROP COLUMN payment;
ALTER TABLE departments DROP COLUMN creditor;
