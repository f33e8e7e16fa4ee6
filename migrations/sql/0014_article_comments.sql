-- Comments on articles (issue 13): members who may read an article discuss
-- it below it, threaded one level (a reply's parent is a top-level
-- comment). Authors edit or delete their own for 15 minutes; admins of the
-- article's city hide one (audited). A deleted or hidden comment keeps its
-- row so its replies keep their place.
CREATE TABLE article_comments (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    article_id bigint NOT NULL REFERENCES articles (id),
    parent_id  bigint REFERENCES article_comments (id),
    author_id  bigint NOT NULL REFERENCES users (id),
    body       text NOT NULL CHECK (length(body) BETWEEN 1 AND 10000),
    created_at timestamptz NOT NULL DEFAULT now(),
    edited_at  timestamptz,
    deleted_at timestamptz,
    hidden_at  timestamptz,
    hidden_by  text NOT NULL DEFAULT ''
);
CREATE INDEX article_comments_article_idx ON article_comments (article_id, id);
CREATE INDEX article_comments_author_idx ON article_comments (author_id, created_at);

-- A notification of a comment quotes it; when the comment is deleted or
-- hidden, the quote goes too.
ALTER TABLE notifications ADD COLUMN article_comment_id bigint REFERENCES article_comments (id);
CREATE INDEX notifications_article_comment_idx ON notifications (article_comment_id) WHERE article_comment_id IS NOT NULL;

-- A member's own comments carry edit controls for 15 minutes: they are
-- part of the member's cached personal state (migration 0011).
CREATE FUNCTION notify_comment_author() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('hansewiki_personal', coalesce(NEW.author_id, OLD.author_id)::text);
    RETURN NULL;
END $$;
CREATE TRIGGER article_comments_personal_change AFTER INSERT OR UPDATE OR DELETE ON article_comments
    FOR EACH ROW EXECUTE FUNCTION notify_comment_author();
