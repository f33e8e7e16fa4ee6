-- Comparable experience fields (issue 13): a cost band beside the free-text
-- cost, funding programmes kept by network admins, and search filters and
-- facets on status, start year, cost band and funding.

ALTER TABLE revisions ADD COLUMN cost_band text NOT NULL DEFAULT ''
    CHECK (cost_band IN ('', 'unter-10k', '10k-50k', '50k-250k', '250k-1m', 'ueber-1m'));

-- Revisions stay immutable with the new field (and the adoption link).
CREATE OR REPLACE FUNCTION revisions_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (NEW.article_id, NEW.base_revision_id, NEW.title, NEW.body, NEW.summary, NEW.visibility,
        NEW.topics, NEW.tags, NEW.status, NEW.start_year, NEW.cost, NEW.cost_band, NEW.funding,
        NEW.partners, NEW.contact, NEW.adopted_from, NEW.author_id, NEW.created_at)
       IS DISTINCT FROM
       (OLD.article_id, OLD.base_revision_id, OLD.title, OLD.body, OLD.summary, OLD.visibility,
        OLD.topics, OLD.tags, OLD.status, OLD.start_year, OLD.cost, OLD.cost_band, OLD.funding,
        OLD.partners, OLD.contact, OLD.adopted_from, OLD.author_id, OLD.created_at) THEN
        RAISE EXCEPTION 'revisions are immutable' USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END $$;

-- The funding programmes editors choose from (they may still write another).
-- Retired programmes are no longer offered; articles keep what they name.
CREATE TABLE funding_programmes (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 200 AND name = btrim(name)),
    retired    boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX funding_programmes_name_idx ON funding_programmes (lower(name));

-- Start year, cost band and funding of a document, numbered like
-- search_facet_sets: facet counts group the matches by one more integer
-- (a few hundred combinations) instead of by the values themselves.
CREATE TABLE search_experience_sets (
    id         integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    start_year integer NOT NULL, -- 0: none
    cost_band  text NOT NULL,
    funding    text NOT NULL,
    UNIQUE (start_year, cost_band, funding)
);

ALTER TABLE search_documents
    ADD COLUMN cost_band text NOT NULL DEFAULT '',
    ADD COLUMN funding text NOT NULL DEFAULT '',
    ADD COLUMN exp_set integer REFERENCES search_experience_sets (id);

CREATE OR REPLACE FUNCTION search_refresh(p_article bigint) RETURNS void
    LANGUAGE plpgsql AS $$
DECLARE
    doc search_documents%ROWTYPE;
BEGIN
    -- In the order of the columns of search_documents; the sets follow.
    SELECT a.id, a.published_at, NULL, NULL, r.id, r.start_year, r.visibility, a.city, r.status, a.slug,
           r.topics, r.tags, r.title, hansewiki_fold(r.title), b.text,
           to_tsvector('hansewiki_german', hansewiki_ts_text(r.title)),
           setweight(to_tsvector('hansewiki_german', hansewiki_ts_text(r.title)), 'A') ||
           setweight(to_tsvector('hansewiki_german', concat_ws(' ', array_to_string(r.tags, ' '),
               (SELECT string_agg(t.name_de || ' ' || t.name_en, ' ') FROM topics t WHERE t.slug = ANY (r.topics)))), 'B') ||
           setweight(to_tsvector('hansewiki_german', hansewiki_ts_text(b.text)), 'C') ||
           setweight(to_tsvector('hansewiki_german', concat_ws(' ', c.name, r.funding, r.partners)), 'D'),
           r.cost_band, r.funding, NULL
      INTO doc
      FROM articles a
      JOIN revisions r ON r.id = a.published_revision_id
      JOIN cities c ON c.slug = a.city
      CROSS JOIN LATERAL (SELECT hansewiki_html_text(r.html) AS text) b
     WHERE a.id = p_article AND NOT a.archived;
    IF NOT FOUND THEN
        DELETE FROM search_documents WHERE article_id = p_article;
        RETURN;
    END IF;
    SELECT id INTO doc.facet_set FROM search_facet_sets
     WHERE city = doc.city AND status = doc.status AND topics = doc.topics;
    IF NOT FOUND THEN
        INSERT INTO search_facet_sets (city, status, topics) VALUES (doc.city, doc.status, doc.topics)
            ON CONFLICT DO NOTHING RETURNING id INTO doc.facet_set;
        IF doc.facet_set IS NULL THEN
            SELECT id INTO STRICT doc.facet_set FROM search_facet_sets
             WHERE city = doc.city AND status = doc.status AND topics = doc.topics;
        END IF;
    END IF;
    SELECT id INTO doc.tag_set FROM search_tag_sets WHERE tags = doc.tags;
    IF NOT FOUND THEN
        INSERT INTO search_tag_sets (tags) VALUES (doc.tags) ON CONFLICT DO NOTHING RETURNING id INTO doc.tag_set;
        IF doc.tag_set IS NULL THEN
            SELECT id INTO STRICT doc.tag_set FROM search_tag_sets WHERE tags = doc.tags;
        END IF;
    END IF;
    SELECT id INTO doc.exp_set FROM search_experience_sets
     WHERE start_year = coalesce(doc.start_year, 0) AND cost_band = doc.cost_band AND funding = doc.funding;
    IF NOT FOUND THEN
        INSERT INTO search_experience_sets (start_year, cost_band, funding)
            VALUES (coalesce(doc.start_year, 0), doc.cost_band, doc.funding)
            ON CONFLICT DO NOTHING RETURNING id INTO doc.exp_set;
        IF doc.exp_set IS NULL THEN
            SELECT id INTO STRICT doc.exp_set FROM search_experience_sets
             WHERE start_year = coalesce(doc.start_year, 0) AND cost_band = doc.cost_band AND funding = doc.funding;
        END IF;
    END IF;
    INSERT INTO search_documents VALUES (doc.*)
        ON CONFLICT (article_id) DO UPDATE SET
            revision_id = EXCLUDED.revision_id, city = EXCLUDED.city, slug = EXCLUDED.slug,
            visibility = EXCLUDED.visibility, status = EXCLUDED.status,
            start_year = EXCLUDED.start_year, topics = EXCLUDED.topics, tags = EXCLUDED.tags,
            facet_set = EXCLUDED.facet_set, tag_set = EXCLUDED.tag_set,
            title = EXCLUDED.title, title_sort = EXCLUDED.title_sort,
            body_text = EXCLUDED.body_text, updated_at = EXCLUDED.updated_at,
            title_tsv = EXCLUDED.title_tsv, tsv = EXCLUDED.tsv,
            cost_band = EXCLUDED.cost_band, funding = EXCLUDED.funding, exp_set = EXCLUDED.exp_set;
    INSERT INTO search_words (word, display)
    SELECT DISTINCT ON (f.word) f.word, f.w
      FROM (SELECT lower(public.unaccent('public.unaccent'::regdictionary, w)) AS word, w
              FROM unnest(tsvector_to_array(to_tsvector('simple', hansewiki_ts_text(
                       concat_ws(' ', doc.title, array_to_string(doc.tags, ' '), doc.body_text))))) AS w
             WHERE w ~ '^[[:alpha:]]{3,40}$') f
     ORDER BY f.word, f.w
    ON CONFLICT (word) DO NOTHING;
END $$;

-- Rows written before this migration get their experience set; Meilisearch
-- documents gain the new fields when the worker sends them again.
SELECT search_refresh(article_id) FROM search_documents;
ALTER TABLE search_documents ALTER COLUMN exp_set SET NOT NULL;
INSERT INTO search_outbox (article_id, refreshed) SELECT article_id, true FROM search_documents;
