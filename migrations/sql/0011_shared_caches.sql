-- Shared caches (issue 10): signed-in pages are served from in-process
-- caches (sessions, identities, tokens, personal chrome, open changes per
-- article). Every write that can make an entry stale announces it here, in
-- its own transaction, so no code path (web, API, CLI, a future one) can
-- forget to: a trigger is the one place. Each instance drops the named
-- entries when the notification reaches it; a request that wrote answers
-- only after every instance heard a fence sent after its writes (see
-- wiki.Barrier), so the change holds everywhere before the next request.

-- Accounts: identity (name, roles, disabled, credentials version) and
-- bearer tokens. The payload is the user's id; '' means everyone (a role
-- rule names users by name, and role changes are rare).
CREATE FUNCTION notify_account_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    row record := coalesce(NEW, OLD);
BEGIN
    IF TG_TABLE_NAME = 'users' THEN
        PERFORM pg_notify('hansewiki_account', row.id::text);
    ELSIF TG_TABLE_NAME = 'api_tokens' THEN
        PERFORM pg_notify('hansewiki_account', row.user_id::text);
    ELSE
        PERFORM pg_notify('hansewiki_account', '');
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER users_account_change AFTER INSERT OR UPDATE OR DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION notify_account_change();
-- A token's last use is kept to the minute and cached with the token; it
-- alone changes nothing a request decides on.
CREATE TRIGGER api_tokens_account_change AFTER INSERT OR DELETE OR UPDATE OF user_id, kind, token_hash, expires_at, revoked_at, credentials_version ON api_tokens
    FOR EACH ROW EXECUTE FUNCTION notify_account_change();
CREATE TRIGGER casbin_rules_account_change AFTER INSERT OR UPDATE OR DELETE ON casbin_rules
    FOR EACH STATEMENT EXECUTE FUNCTION notify_account_change();

-- Sessions: the payload names the session by a hash of its token, never
-- the token itself.
CREATE FUNCTION notify_session_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('hansewiki_session', encode(sha256(convert_to(coalesce(NEW.token, OLD.token), 'UTF8')), 'hex'));
    RETURN NULL;
END $$;
CREATE TRIGGER sessions_change AFTER UPDATE OR DELETE ON sessions
    FOR EACH ROW EXECUTE FUNCTION notify_session_change();

-- Personal chrome: unread notifications and watched articles, per user.
CREATE FUNCTION notify_personal_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('hansewiki_personal', coalesce(NEW.user_id, OLD.user_id)::text);
    RETURN NULL;
END $$;
CREATE TRIGGER notifications_personal_change AFTER INSERT OR UPDATE OR DELETE ON notifications
    FOR EACH ROW EXECUTE FUNCTION notify_personal_change();
CREATE TRIGGER watches_personal_change AFTER INSERT OR UPDATE OR DELETE ON watches
    FOR EACH ROW EXECUTE FUNCTION notify_personal_change();

-- Open changes of an article, shown on its page to those who may edit it.
CREATE FUNCTION notify_article_changes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('hansewiki_article_changes', coalesce(NEW.article_id, OLD.article_id)::text);
    RETURN NULL;
END $$;
CREATE TRIGGER change_requests_article_change AFTER INSERT OR UPDATE OR DELETE ON change_requests
    FOR EACH ROW EXECUTE FUNCTION notify_article_changes();

-- Fences: a request that wrote sends one after its writes committed and
-- waits until every instance acked a fence at least as new. A sequence, not
-- a row everyone updates: a fence that gets a higher number was sent after
-- every write of a request that got a lower one had committed.
CREATE SEQUENCE cache_fence;

-- The narrowing generation is replaced by fences.
DROP TABLE narrowing_generation;
