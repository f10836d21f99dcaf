DROP TABLE email_tokens;
DROP TABLE mail_outbox;
