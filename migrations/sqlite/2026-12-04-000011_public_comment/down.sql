ALTER TABLE applications DROP COLUMN public_comment_at;
ALTER TABLE applications DROP COLUMN public_comment;
