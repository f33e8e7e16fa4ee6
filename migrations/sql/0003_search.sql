-- Search on PostgreSQL: the embedded default, and the fallback while
-- Meilisearch is down. search_documents holds one row per published, not
-- archived article, kept up to date by triggers in the transaction that
-- publishes, archives or renames, so it never lags behind what readers see.
-- search_words is the word list behind typo tolerance and "did you mean".

-- German stemming of unaccented words: "Bürger" and "Burger" both index as
-- "burg". Query words typed with ae/oe/ue get their unaccented form added in
-- Go, so "Buerger" finds "Bürger" as well.
CREATE TEXT SEARCH CONFIGURATION hansewiki_german (COPY = pg_catalog.german);
ALTER TEXT SEARCH CONFIGURATION hansewiki_german
    ALTER MAPPING FOR hword, hword_part, word WITH public.unaccent, german_stem;

-- unaccent() is only STABLE (it looks its dictionary up by name); with the
-- dictionary named explicitly the result depends on the input alone, so the
-- wrapper may be IMMUTABLE and used in indexes.
CREATE FUNCTION hansewiki_unaccent(text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    AS $$ SELECT public.unaccent('public.unaccent'::regdictionary, $1) $$;

-- The key titles sort by and word lists match on: lower case, unaccented.
CREATE FUNCTION hansewiki_fold(text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    AS $$ SELECT lower(hansewiki_unaccent($1)) $$;

-- One character reference decoded; anything else comes back as it is.
CREATE FUNCTION hansewiki_char_ref(tok text) RETURNS text
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE STRICT AS $$
DECLARE
    code bigint;
BEGIN
    CASE
        WHEN tok ~ '^&#[0-9]{1,7};$' THEN code := substr(tok, 3, length(tok) - 3)::bigint;
        WHEN tok ~ '^&#[xX][0-9a-fA-F]{1,6};$' THEN
            code := ('x' || lpad(substr(tok, 4, length(tok) - 4), 8, '0'))::bit(32)::int;
        WHEN tok = '&amp;' THEN RETURN '&';
        WHEN tok = '&lt;' THEN RETURN '<';
        WHEN tok = '&gt;' THEN RETURN '>';
        WHEN tok = '&quot;' THEN RETURN '"';
        WHEN tok = '&apos;' THEN RETURN '''';
        WHEN tok = '&nbsp;' THEN RETURN ' ';
        ELSE RETURN tok;
    END CASE;
    IF code BETWEEN 1 AND 1114111 AND code NOT BETWEEN 55296 AND 57343 THEN
        RETURN chr(code::int);
    END IF;
    RETURN tok;
END $$;

-- The plain text of a revision's stored, sanitized HTML: block elements
-- become spaces, inline ones vanish (so "Grün<b>dach</b>" stays one word),
-- and character references are decoded in one pass, so "&amp;lt;" stays the
-- text "&lt;". Snippets escape this text again before they are shown.
CREATE FUNCTION hansewiki_html_text(html text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $$
    SELECT coalesce(btrim(regexp_replace(string_agg(hansewiki_char_ref(m.parts[1]), '' ORDER BY m.n),
               '\s+', ' ', 'g')), '')
      FROM regexp_matches(
               regexp_replace(
                   regexp_replace($1,
                       '</?(p|div|h[1-6]|li|ul|ol|dl|dt|dd|table|thead|tbody|tfoot|tr|td|th|caption|br|hr|pre|blockquote|figure|figcaption|details|summary|section|aside|img)(\s[^>]*)?/?>',
                       ' ', 'gi'),
                   '<[^>]*>', '', 'g'),
               '&#[0-9]{1,7};|&#[xX][0-9a-fA-F]{1,6};|&[a-zA-Z]+;|[^&]+|&', 'g') WITH ORDINALITY AS m(parts, n)
$$;

-- Text as the parser should see it: PostgreSQL's parser takes "<script>"
-- for an HTML tag and "&lt;" for an entity and skips both, but in article
-- text they are words someone may search for.
CREATE FUNCTION hansewiki_ts_text(text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    AS $$ SELECT translate($1, '<>&', '   ') $$;

-- OR and AND over many tsqueries, to build a query from word alternatives
-- in SQL rather than by quoting user input into tsquery syntax.
CREATE AGGREGATE hansewiki_tsquery_or(tsquery) (SFUNC = tsquery_or, STYPE = tsquery);
CREATE AGGREGATE hansewiki_tsquery_and(tsquery) (SFUNC = tsquery_and, STYPE = tsquery);

-- Every combination of city, status and topics, and of tags, that a
-- document has, numbered: facet counts then group the matches by two
-- integers in one pass and split the few groups into values, which costs
-- half of grouping by the text columns and arrays themselves. Like
-- search_words, only ever added to.
CREATE TABLE search_facet_sets (
    id     integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    city   text NOT NULL,
    status text NOT NULL,
    topics text[] NOT NULL,
    UNIQUE (city, status, topics)
);

CREATE TABLE search_tag_sets (
    id   integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tags text[] NOT NULL UNIQUE
);

-- The columns every match is read for come first: fixed-width columns are
-- found without stepping over the variable-width ones before them. The text
-- and the tsvector, which matching never reads (the GIN index answers it),
-- are kept out of line (toast_tuple_target): a search that matches most
-- articles visits a quarter of the pages.
CREATE TABLE search_documents (
    article_id  bigint PRIMARY KEY REFERENCES articles (id),
    updated_at  timestamptz NOT NULL,
    facet_set   integer NOT NULL REFERENCES search_facet_sets (id),
    tag_set     integer NOT NULL REFERENCES search_tag_sets (id),
    revision_id bigint NOT NULL REFERENCES revisions (id),
    start_year  integer,
    visibility  text NOT NULL,
    city        text NOT NULL,
    status      text NOT NULL,
    slug        text NOT NULL,
    topics      text[] NOT NULL,
    tags        text[] NOT NULL,
    title       text NOT NULL,
    title_sort  text NOT NULL,
    body_text   text NOT NULL,
    -- The title alone, with a GIN index of its own: the matches with the
    -- query in the title are found there, not by testing every match.
    title_tsv   tsvector NOT NULL,
    -- Title (A) > tags and topic names (B) > body (C) > city name and the
    -- experience fields (D).
    tsv         tsvector NOT NULL
) WITH (toast_tuple_target = 128);

-- GIN indexes without the fast-update pending list: publishing 10,000
-- articles left 468 pages of unsorted entries that every search read until
-- (auto)vacuum merged them, and meanwhile the planner preferred a
-- sequential scan that detoasts every tsvector (30 ms on 10,000 articles,
-- even for a word in none of them). Publishing is rare and searching is
-- not, so the publishing transaction updates the index itself.
CREATE INDEX search_documents_tsv_idx ON search_documents USING gin (tsv) WITH (fastupdate = off);
CREATE INDEX search_documents_title_tsv_idx ON search_documents USING gin (title_tsv) WITH (fastupdate = off);
CREATE INDEX search_documents_title_trgm_idx ON search_documents USING gin (title_sort gin_trgm_ops) WITH (fastupdate = off);
CREATE INDEX search_documents_topics_idx ON search_documents USING gin (topics) WITH (fastupdate = off);
CREATE INDEX search_documents_tags_idx ON search_documents USING gin (tags) WITH (fastupdate = off);
CREATE INDEX search_documents_updated_idx ON search_documents (updated_at DESC, article_id DESC);
CREATE INDEX search_documents_title_sort_idx ON search_documents (title_sort, article_id);

-- Distinct words of all indexed text, folded (word) and as written in lower
-- case (display). Only ever added to: a word whose last article is gone stays,
-- which is harmless because every suggestion is checked against the articles
-- the reader may read before it is shown.
CREATE TABLE search_words (
    word    text PRIMARY KEY,
    display text NOT NULL
);

CREATE INDEX search_words_trgm_idx ON search_words USING gin (word gin_trgm_ops) WITH (fastupdate = off);

-- search_refresh brings the search row of one article up to date with its
-- published revision: written when published and not archived, else removed.
CREATE FUNCTION search_refresh(p_article bigint) RETURNS void
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
           setweight(to_tsvector('hansewiki_german', concat_ws(' ', c.name, r.funding, r.partners)), 'D')
      INTO doc
      FROM articles a
      JOIN revisions r ON r.id = a.published_revision_id
      JOIN cities c ON c.slug = a.city
      -- The plain text once, for the column and the tsvector.
      CROSS JOIN LATERAL (SELECT hansewiki_html_text(r.html) AS text) b
     WHERE a.id = p_article AND NOT a.archived;
    IF NOT FOUND THEN
        DELETE FROM search_documents WHERE article_id = p_article;
        RETURN;
    END IF;
    -- Look up before inserting, so the identity is not used up by every
    -- publication; a set another transaction is adding makes the insert
    -- wait for it, and the second look-up then sees it (read committed).
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
    INSERT INTO search_documents VALUES (doc.*)
        ON CONFLICT (article_id) DO UPDATE SET
            revision_id = EXCLUDED.revision_id, city = EXCLUDED.city, slug = EXCLUDED.slug,
            visibility = EXCLUDED.visibility, status = EXCLUDED.status,
            start_year = EXCLUDED.start_year, topics = EXCLUDED.topics, tags = EXCLUDED.tags,
            facet_set = EXCLUDED.facet_set, tag_set = EXCLUDED.tag_set,
            title = EXCLUDED.title, title_sort = EXCLUDED.title_sort,
            body_text = EXCLUDED.body_text, updated_at = EXCLUDED.updated_at,
            title_tsv = EXCLUDED.title_tsv, tsv = EXCLUDED.tsv;
    -- Sorted, so concurrent publications insert shared new words in the same
    -- order and cannot deadlock. Folded as hansewiki_fold does, but calling
    -- unaccent directly: hansewiki_fold is a SQL function that cannot be
    -- inlined, and calling it twice for every word of an article took a
    -- seventh of the refresh.
    INSERT INTO search_words (word, display)
    SELECT DISTINCT ON (f.word) f.word, f.w
      FROM (SELECT lower(public.unaccent('public.unaccent'::regdictionary, w)) AS word, w
              FROM unnest(tsvector_to_array(to_tsvector('simple', hansewiki_ts_text(
                       concat_ws(' ', doc.title, array_to_string(doc.tags, ' '), doc.body_text))))) AS w
             WHERE w ~ '^[[:alpha:]]{3,40}$') f
     ORDER BY f.word, f.w
    ON CONFLICT (word) DO NOTHING;
END $$;

-- Publishing, archiving, moving: refresh the row. Publish queues the article
-- for Meilisearch itself; the other changes are queued here, so they reach
-- the index whichever code path makes them.
CREATE FUNCTION search_article_changed() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    PERFORM search_refresh(NEW.id);
    IF NEW.published_revision_id IS NOT NULL
       AND NEW.published_revision_id IS NOT DISTINCT FROM OLD.published_revision_id THEN
        INSERT INTO search_outbox (article_id) VALUES (NEW.id);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER search_article_changed
    AFTER UPDATE OF published_revision_id, archived, published_at, city, slug ON articles
    FOR EACH ROW
    WHEN ((OLD.published_revision_id, OLD.archived, OLD.published_at, OLD.city, OLD.slug)
          IS DISTINCT FROM (NEW.published_revision_id, NEW.archived, NEW.published_at, NEW.city, NEW.slug))
    EXECUTE FUNCTION search_article_changed();

-- A published revision re-rendered (a link target appeared): same words, but
-- keep the row an exact function of the revision.
CREATE FUNCTION search_revision_rerendered() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    PERFORM search_refresh(a.id) FROM articles a WHERE a.published_revision_id = NEW.id;
    RETURN NULL;
END $$;

CREATE TRIGGER search_revision_rerendered
    AFTER UPDATE OF html ON revisions
    FOR EACH ROW WHEN (OLD.html IS DISTINCT FROM NEW.html)
    EXECUTE FUNCTION search_revision_rerendered();

-- Topic and city names are searchable; renaming one changes documents.
CREATE FUNCTION search_topic_renamed() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    PERFORM search_refresh(d.article_id) FROM search_documents d WHERE NEW.slug = ANY (d.topics);
    INSERT INTO search_outbox (article_id)
        SELECT d.article_id FROM search_documents d WHERE NEW.slug = ANY (d.topics);
    RETURN NULL;
END $$;

CREATE TRIGGER search_topic_renamed
    AFTER UPDATE OF name_de, name_en ON topics
    FOR EACH ROW WHEN ((OLD.name_de, OLD.name_en) IS DISTINCT FROM (NEW.name_de, NEW.name_en))
    EXECUTE FUNCTION search_topic_renamed();

CREATE FUNCTION search_city_renamed() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    PERFORM search_refresh(d.article_id) FROM search_documents d WHERE d.city = NEW.slug;
    INSERT INTO search_outbox (article_id)
        SELECT d.article_id FROM search_documents d WHERE d.city = NEW.slug;
    RETURN NULL;
END $$;

CREATE TRIGGER search_city_renamed
    AFTER UPDATE OF name ON cities
    FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name)
    EXECUTE FUNCTION search_city_renamed();

-- Articles published before this migration.
SELECT search_refresh(id) FROM articles WHERE published_revision_id IS NOT NULL;
