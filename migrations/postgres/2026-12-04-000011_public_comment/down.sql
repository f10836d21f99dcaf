ALTER TABLE applications DROP COLUMN public_comment, DROP COLUMN public_comment_at;
