-- The language a person is written to in (mails), and whether they want the mails that are
-- not essential (step changes, messages); the language of an application, set when it is
-- made (its mails are in it).
ALTER TABLE accounts ADD COLUMN language TEXT NOT NULL DEFAULT 'de';
ALTER TABLE accounts ADD COLUMN optional_mail BOOLEAN NOT NULL DEFAULT true;
ALTER TABLE applications ADD COLUMN language TEXT NOT NULL DEFAULT 'de';
-- a mail's HTML alternative (notices to applicants); plain text only when NULL
ALTER TABLE mail_outbox ADD COLUMN html TEXT;
