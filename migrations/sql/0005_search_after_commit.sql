-- The PostgreSQL search row of an article is refreshed by the search worker
-- right after the publishing transaction commits (it is woken by the
-- publication's notification), no longer inside that transaction: the
-- refresh (plain text, tsvector, word list, GIN entries) cost approving
-- reviewers about 7 ms of every publication, most of the review workflow's
-- latency budget. The publishing transaction now only queues the article.
--
-- An outbox row goes through two steps: refreshed = false, waiting for its
-- PostgreSQL search row; then, with Meilisearch configured, refreshed = true,
-- waiting to be sent. The worker refreshes under one lock at a time across
-- instances and marks a row refreshed only in the transaction that wrote
-- the search row, so Meilisearch is always sent the state after the refresh.
ALTER TABLE search_outbox ADD COLUMN refreshed boolean NOT NULL DEFAULT false;
-- Rows queued before this migration were refreshed by the old triggers.
UPDATE search_outbox SET refreshed = true;
CREATE INDEX search_outbox_unrefreshed_idx ON search_outbox (id) WHERE NOT refreshed;

-- Every change that may alter an article's search row queues the article,
-- whichever code path makes it. A change that may narrow who finds the
-- article (archived, unpublished, moved, another visibility) removes the row
-- at once: until the worker has written the new one the article is not
-- found, rather than found by readers who may no longer open it.
CREATE OR REPLACE FUNCTION search_article_changed() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM search_documents d
     WHERE d.article_id = NEW.id
       AND (NEW.archived OR NEW.published_revision_id IS NULL
            OR d.city <> NEW.city OR d.slug <> NEW.slug
            OR d.visibility IS DISTINCT FROM
               (SELECT r.visibility FROM revisions r WHERE r.id = NEW.published_revision_id));
    INSERT INTO search_outbox (article_id) VALUES (NEW.id);
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION search_revision_rerendered() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO search_outbox (article_id)
        SELECT a.id FROM articles a WHERE a.published_revision_id = NEW.id;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION search_topic_renamed() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO search_outbox (article_id)
        SELECT d.article_id FROM search_documents d WHERE NEW.slug = ANY (d.topics);
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION search_city_renamed() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO search_outbox (article_id)
        SELECT d.article_id FROM search_documents d WHERE d.city = NEW.slug;
    RETURN NULL;
END $$;
