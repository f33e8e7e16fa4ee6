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

CREATE TABLE search_documents (
    article_id  bigint PRIMARY KEY REFERENCES articles (id),
    revision_id bigint NOT NULL REFERENCES revisions (id),
    city        text NOT NULL,
    slug        text NOT NULL,
    visibility  text NOT NULL,
    status      text NOT NULL,
    start_year  integer,
    topics      text[] NOT NULL,
    tags        text[] NOT NULL,
    title       text NOT NULL,
    title_sort  text NOT NULL,
    body_text   text NOT NULL,
    updated_at  timestamptz NOT NULL,
    -- The title alone, small enough to stay inline: cheap to test for every
    -- match when choosing the candidates that get ranked.
    title_tsv   tsvector NOT NULL,
    -- Title (A) > tags and topic names (B) > body (C) > city name and the
    -- experience fields (D).
    tsv         tsvector NOT NULL
);

CREATE INDEX search_documents_tsv_idx ON search_documents USING gin (tsv);
CREATE INDEX search_documents_title_tsv_idx ON search_documents USING gin (title_tsv);
CREATE INDEX search_documents_title_trgm_idx ON search_documents USING gin (title_sort gin_trgm_ops);
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

CREATE INDEX search_words_trgm_idx ON search_words USING gin (word gin_trgm_ops);

-- search_refresh brings the search row of one article up to date with its
-- published revision: written when published and not archived, else removed.
CREATE FUNCTION search_refresh(p_article bigint) RETURNS void
    LANGUAGE plpgsql AS $$
DECLARE
    doc search_documents%ROWTYPE;
BEGIN
    SELECT a.id, r.id, a.city, a.slug, r.visibility, r.status, r.start_year, r.topics, r.tags,
           r.title, hansewiki_fold(r.title), hansewiki_html_text(r.html), a.published_at,
           to_tsvector('hansewiki_german', hansewiki_ts_text(r.title)),
           setweight(to_tsvector('hansewiki_german', hansewiki_ts_text(r.title)), 'A') ||
           setweight(to_tsvector('hansewiki_german', concat_ws(' ', array_to_string(r.tags, ' '),
               (SELECT string_agg(t.name_de || ' ' || t.name_en, ' ') FROM topics t WHERE t.slug = ANY (r.topics)))), 'B') ||
           setweight(to_tsvector('hansewiki_german', hansewiki_ts_text(hansewiki_html_text(r.html))), 'C') ||
           setweight(to_tsvector('hansewiki_german', concat_ws(' ', c.name, r.funding, r.partners)), 'D')
      INTO doc
      FROM articles a
      JOIN revisions r ON r.id = a.published_revision_id
      JOIN cities c ON c.slug = a.city
     WHERE a.id = p_article AND NOT a.archived;
    IF NOT FOUND THEN
        DELETE FROM search_documents WHERE article_id = p_article;
        RETURN;
    END IF;
    INSERT INTO search_documents VALUES (doc.*)
        ON CONFLICT (article_id) DO UPDATE SET
            revision_id = EXCLUDED.revision_id, city = EXCLUDED.city, slug = EXCLUDED.slug,
            visibility = EXCLUDED.visibility, status = EXCLUDED.status,
            start_year = EXCLUDED.start_year, topics = EXCLUDED.topics, tags = EXCLUDED.tags,
            title = EXCLUDED.title, title_sort = EXCLUDED.title_sort,
            body_text = EXCLUDED.body_text, updated_at = EXCLUDED.updated_at,
            title_tsv = EXCLUDED.title_tsv, tsv = EXCLUDED.tsv;
    -- Sorted, so concurrent publications insert shared new words in the same
    -- order and cannot deadlock.
    INSERT INTO search_words (word, display)
    SELECT DISTINCT ON (hansewiki_fold(w)) hansewiki_fold(w), w
      FROM unnest(tsvector_to_array(to_tsvector('simple', hansewiki_ts_text(
               concat_ws(' ', doc.title, array_to_string(doc.tags, ' '), doc.body_text))))) AS w
     WHERE w ~ '^[[:alpha:]]{3,40}$'
     ORDER BY hansewiki_fold(w), w
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
