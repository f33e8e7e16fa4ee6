-- Review workflow: change requests, reviews, discussion, notifications, the
-- outgoing mail queue, watched articles, and a hash chain over the audit log.

CREATE TABLE change_requests (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    article_id         bigint NOT NULL REFERENCES articles (id),
    author_id          bigint NOT NULL REFERENCES users (id),
    state              text NOT NULL CHECK (state IN
                         ('draft', 'in_review', 'changes_requested', 'conflict', 'published', 'rejected', 'withdrawn')),
    base_revision_id   bigint REFERENCES revisions (id),
    revision_id        bigint NOT NULL REFERENCES revisions (id),
    -- The city's policy when the change was first submitted; later policy
    -- changes do not alter changes in flight.
    required_approvals integer CHECK (required_approvals BETWEEN 1 AND 10),
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    submitted_at       timestamptz,
    closed_at          timestamptz
);
CREATE INDEX change_requests_state_idx ON change_requests (state, id);
CREATE INDEX change_requests_author_idx ON change_requests (author_id, id);
CREATE INDEX change_requests_article_idx ON change_requests (article_id, id);

CREATE TABLE reviews (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    change_id   bigint NOT NULL REFERENCES change_requests (id),
    reviewer_id bigint NOT NULL REFERENCES users (id),
    -- The revision the decision was about: approvals of an older revision
    -- do not count once the author changed the text.
    revision_id bigint NOT NULL REFERENCES revisions (id),
    decision    text NOT NULL CHECK (decision IN ('approve', 'request_changes', 'reject')),
    comment     text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX reviews_change_idx ON reviews (change_id, id);

CREATE TABLE change_comments (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    change_id  bigint NOT NULL REFERENCES change_requests (id),
    author_id  bigint NOT NULL REFERENCES users (id),
    body       text NOT NULL CHECK (length(body) BETWEEN 1 AND 20000),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX change_comments_change_idx ON change_comments (change_id, id);

CREATE TABLE watches (
    user_id    bigint NOT NULL REFERENCES users (id),
    article_id bigint NOT NULL REFERENCES articles (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, article_id)
);
CREATE INDEX watches_article_idx ON watches (article_id);

CREATE TABLE notifications (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    bigint NOT NULL REFERENCES users (id),
    kind       text NOT NULL,
    change_id  bigint REFERENCES change_requests (id),
    article_id bigint REFERENCES articles (id),
    actor      text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    read_at    timestamptz
);
CREATE INDEX notifications_user_idx ON notifications (user_id, id DESC);

-- Mail is written in the same transaction as the transition and sent after
-- commit, so a crash between the two loses nothing.
CREATE TABLE mail_queue (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    to_addr         text NOT NULL,
    subject         text NOT NULL,
    body            text NOT NULL,
    message_id      text NOT NULL UNIQUE,
    created_at      timestamptz NOT NULL DEFAULT now(),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    sent_at         timestamptz,
    last_error      text NOT NULL DEFAULT ''
);
CREATE INDEX mail_queue_due_idx ON mail_queue (next_attempt_at, id) WHERE sent_at IS NULL;

-- Tamper-evident audit log: every event carries a SHA-256 over its content
-- and the previous event's hash. The chain position is assigned under a
-- transaction-scoped lock, so it follows commit order even when concurrent
-- transactions drew their ids in another order.
ALTER TABLE audit_events
    ADD COLUMN chain_seq bigint UNIQUE,
    ADD COLUMN prev_hash bytea,
    ADD COLUMN hash bytea;

CREATE FUNCTION audit_event_digest(prev bytea, seq bigint, at timestamptz, actor text, action text,
                                   object text, detail jsonb, client_addr text) RETURNS bytea
    LANGUAGE sql IMMUTABLE AS $$
    SELECT sha256(coalesce(prev, '\x'::bytea) || convert_to(
        seq::text || E'\x1f' || extract(epoch FROM at)::text || E'\x1f' || actor || E'\x1f' ||
        action || E'\x1f' || object || E'\x1f' || detail::text || E'\x1f' || client_addr, 'UTF8'))
$$;

CREATE FUNCTION audit_events_chain() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    last_seq bigint;
    last_hash bytea;
BEGIN
    PERFORM pg_advisory_xact_lock(7420692);
    -- chain_seq is NOT NULL once assigned; plain DESC walks the unique index
    -- backwards (DESC NULLS LAST sorted the whole log on every insert).
    SELECT chain_seq, hash INTO last_seq, last_hash FROM audit_events ORDER BY chain_seq DESC LIMIT 1;
    NEW.chain_seq := coalesce(last_seq, 0) + 1;
    NEW.at := clock_timestamp();
    NEW.prev_hash := last_hash;
    NEW.hash := audit_event_digest(last_hash, NEW.chain_seq, NEW.at, NEW.actor, NEW.action, NEW.object, NEW.detail, NEW.client_addr);
    RETURN NEW;
END $$;

-- Chain the events written before this migration, in id order.
DROP RULE audit_events_no_update ON audit_events;
DO $$
DECLARE
    r record;
    seq bigint := 0;
    prev bytea;
BEGIN
    FOR r IN SELECT id, at, actor, action, object, detail, client_addr FROM audit_events ORDER BY id LOOP
        seq := seq + 1;
        UPDATE audit_events SET chain_seq = seq, prev_hash = prev,
            hash = audit_event_digest(prev, seq, r.at, r.actor, r.action, r.object, r.detail, r.client_addr)
        WHERE id = r.id
        RETURNING hash INTO prev;
    END LOOP;
END $$;
CREATE RULE audit_events_no_update AS ON UPDATE TO audit_events DO INSTEAD NOTHING;
ALTER TABLE audit_events ALTER COLUMN chain_seq SET NOT NULL, ALTER COLUMN hash SET NOT NULL;

CREATE TRIGGER audit_events_chain BEFORE INSERT ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_chain();
