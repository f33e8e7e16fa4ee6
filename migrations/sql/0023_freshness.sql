-- Freshness and ownership (issue 14): every published article has an owner
-- (its first author; NULL hands it to the city's admins) and optionally a
-- deputy, and a review interval in months (the city's default, or its
-- own). When it is due, owner and deputy are asked whether it is still
-- right; a confirmation moves the due date without a new revision.
ALTER TABLE cities
    ADD COLUMN review_months integer NOT NULL DEFAULT 12 CHECK (review_months BETWEEN 1 AND 60);

ALTER TABLE articles
    ADD COLUMN owner_id      bigint REFERENCES users (id),
    ADD COLUMN deputy_id     bigint REFERENCES users (id),
    ADD COLUMN review_months integer CHECK (review_months BETWEEN 1 AND 60),
    ADD COLUMN confirmed_at  timestamptz,
    ADD COLUMN confirmed_by  bigint REFERENCES users (id),
    -- The due date the periodic work found overdue by more than a month:
    -- the article is stale while its due date is still this one (a
    -- confirmation or a publication moves it on).
    ADD COLUMN stale_due     timestamptz,
    ADD CONSTRAINT articles_deputy_not_owner CHECK (deputy_id IS DISTINCT FROM owner_id OR deputy_id IS NULL);

-- Imported articles were written by the system account (id 1): their
-- city's admins own them.
UPDATE articles a SET owner_id = (SELECT nullif(r.author_id, 1) FROM revisions r WHERE r.article_id = a.id ORDER BY r.id LIMIT 1)
WHERE a.published_revision_id IS NOT NULL;

-- The first publication makes the author of what was published the owner,
-- whichever path published it (review, import).
CREATE FUNCTION article_first_owner() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.owner_id := (SELECT nullif(author_id, 1) FROM revisions WHERE id = NEW.published_revision_id);
    RETURN NEW;
END $$;
CREATE TRIGGER article_first_owner BEFORE UPDATE OF published_revision_id ON articles
    FOR EACH ROW WHEN (OLD.published_revision_id IS NULL AND NEW.published_revision_id IS NOT NULL AND NEW.owner_id IS NULL)
    EXECUTE FUNCTION article_first_owner();
CREATE TRIGGER article_first_owner_insert BEFORE INSERT ON articles
    FOR EACH ROW WHEN (NEW.published_revision_id IS NOT NULL AND NEW.owner_id IS NULL)
    EXECUTE FUNCTION article_first_owner();

CREATE INDEX articles_owner_idx ON articles (owner_id) WHERE owner_id IS NOT NULL;
CREATE INDEX articles_deputy_idx ON articles (deputy_id) WHERE deputy_id IS NOT NULL;

-- One place computes when an article is due: last confirmation or last
-- publication, whichever is later, plus its interval.
CREATE VIEW article_freshness AS
SELECT a.id AS article_id, a.city, a.slug, a.owner_id, a.deputy_id,
       coalesce(a.review_months, c.review_months) AS review_months,
       a.review_months IS NULL AS city_default,
       a.confirmed_at, a.confirmed_by,
       d.due_at,
       coalesce(a.stale_due = d.due_at, false) AS stale
FROM articles a
JOIN cities c ON c.slug = a.city
CROSS JOIN LATERAL (SELECT greatest(a.published_at, a.confirmed_at)
    + make_interval(months => coalesce(a.review_months, c.review_months)) AS due_at) d
WHERE a.published_revision_id IS NOT NULL AND NOT a.archived;

-- Who was asked for which due date: once per due period.
CREATE TABLE freshness_requests (
    article_id bigint NOT NULL REFERENCES articles (id),
    due_at     timestamptz NOT NULL,
    asked_at   timestamptz NOT NULL DEFAULT now(),
    recipients integer NOT NULL,
    PRIMARY KEY (article_id, due_at)
);

-- The weekly digest ("Diese Woche in der Smarten Hanse"): opt-in per
-- member, sent once per member and ISO week.
ALTER TABLE users ADD COLUMN weekly_digest boolean NOT NULL DEFAULT false;
CREATE TABLE digest_sends (
    user_id  bigint NOT NULL REFERENCES users (id),
    week     text NOT NULL CHECK (week ~ '^[0-9]{4}-W[0-9]{2}$'),
    sent_at  timestamptz NOT NULL DEFAULT now(),
    articles integer NOT NULL,
    PRIMARY KEY (user_id, week)
);
