-- Bills for bench/billing: a CHF 20 bill with a QR reference on :credits submitted
-- applications of the dataset (bench/sql/dataset.sql), as guichet makes them on submission,
-- and the applications' payment state.
--   psql -v credits=10000 -f bench/sql/bills.sql
\set ON_ERROR_STOP on
SET synchronous_commit = off;

-- the QR reference's check digit, modulo 10 recursive (as src/domain/qrbill.rs)
CREATE FUNCTION pg_temp.qr_reference(digits text) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  t int[] := '{0,9,4,6,8,2,7,1,3,5}';
  carry int := 0;
BEGIN
  FOR i IN 1..length(digits) LOOP
    carry := t[((carry + substr(digits, i, 1)::int) % 10) + 1];
  END LOOP;
  RETURN digits || ((10 - carry) % 10)::text;
END $$;

CREATE TEMP TABLE bench_bills AS
SELECT a.id AS application_id, a.department_id, a.reference AS app_reference,
       pg_temp.qr_reference('9' || lpad(row_number() OVER (ORDER BY a.id)::text, 25, '0')) AS reference
FROM applications a
WHERE a.phase = 'submitted'
ORDER BY md5(a.id::text)
LIMIT :credits;

INSERT INTO invoices (id, application_id, number, department_id, status, amount, paid_amount, currency,
    reference_type, reference, iban, creditor, debtor, message, issued_at, due_on, paid_at, reason,
    revision, updated_at)
SELECT md5('guichet-bench-bill-' || b.reference)::uuid, b.application_id, 1, b.department_id, 'due', 2000, 0, 'CHF',
       'QRR', b.reference, 'CH4431999123000889012',
       '{"name": "Stadt Thun, Einwohnerdienste", "street": "Hofstettenstrasse", "house_number": "14", "postal_code": "3602", "town": "Thun", "country": "CH"}',
       '{"name": "Anna Muster", "street": "Hofstettenstrasse", "house_number": "14", "postal_code": "3600", "town": "Thun", "country": "CH"}',
       'Wohnsitzbestätigung ' || b.app_reference, now(), date_trunc('day', now() + interval '30 days'), NULL, NULL, 1, now()
FROM bench_bills b;

UPDATE applications a
SET payment = jsonb_build_object('invoice', i.id, 'status', 'due', 'amount', 2000, 'paid_amount', 0, 'currency', 'CHF',
      'due_on', to_char(i.due_on, 'YYYY-MM-DD'), 'reference', i.reference)
FROM invoices i
WHERE i.application_id = a.id;

VACUUM ANALYZE invoices;
VACUUM ANALYZE applications;
