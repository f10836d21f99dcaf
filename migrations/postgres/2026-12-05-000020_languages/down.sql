ALTER TABLE mail_outbox DROP COLUMN html;
ALTER TABLE applications DROP COLUMN language;
ALTER TABLE accounts DROP COLUMN optional_mail;
ALTER TABLE accounts DROP COLUMN language;
