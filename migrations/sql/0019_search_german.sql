-- Search speaks German (issue 13).
--
-- 1. The word list behind "did you mean" keeps words as written
--    ("Mobilitätsstation", "ÖPNV"), not only in lower case, so a correction
--    is shown as the articles spell it. A word's spelling is its lower-case
--    form where the text has one (a capital then only starts a sentence),
--    else its most frequent spelling in the article. as_written marks spellings taken from
--    text; the lower-case spellings search_refresh adds (from tags, and all
--    before this migration) give way to them.
-- 2. Topic and city names join the word list: a typo of a word that only a
--    topic or city name contains ("Stadtdatn") is corrected too. Every
--    suggestion is still checked against the articles the reader may read,
--    whose tsvector holds topic and city names.
-- 3. Questions are found by search: German full-text vectors of a
--    question's title and text and of each answer, with GIN indexes.

ALTER TABLE search_words ADD COLUMN as_written boolean NOT NULL DEFAULT false;

-- The words of a text as written: folded as search_refresh folds them, with
-- the spelling chosen as above.
CREATE FUNCTION search_words_as_written(txt text) RETURNS TABLE (word text, display text)
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT f.word, coalesce(min(f.w) FILTER (WHERE f.w = lower(f.w)), (array_agg(f.w ORDER BY f.n DESC, f.w))[1])
      FROM (SELECT lower(public.unaccent('public.unaccent'::regdictionary, t.w)) AS word, t.w, t.n
              FROM (SELECT w, count(*) AS n FROM regexp_split_to_table(coalesce(txt, ''), '[^[:alpha:]]+') AS w
                     WHERE length(w) BETWEEN 3 AND 40 GROUP BY w) t) f
     GROUP BY f.word
$$;

-- Adds the words of txt to the word list as written. New words are
-- inserted, sorted (concurrent refreshes cannot deadlock); listed words are
-- only updated when their spelling is taken from text for the first time or
-- turns lower case, so a refresh of an article whose words are all listed
-- writes nothing.
CREATE FUNCTION search_words_add(txt text) RETURNS void
    LANGUAGE plpgsql AS $$
BEGIN
    WITH n AS MATERIALIZED (SELECT * FROM search_words_as_written(txt)),
    added AS (
        INSERT INTO search_words (word, display, as_written)
        SELECT n.word, n.display, true FROM n ORDER BY n.word
            ON CONFLICT (word) DO NOTHING
        RETURNING word)
    UPDATE search_words s SET display = n.display, as_written = true
      FROM n
     WHERE s.word = n.word
       AND (NOT s.as_written OR (n.display = lower(n.display) AND s.display <> n.display))
       AND n.word NOT IN (SELECT word FROM added);
END $$;

CREATE FUNCTION search_words_document() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    PERFORM search_words_add(concat_ws(' ', NEW.title, NEW.body_text));
    RETURN NULL;
END $$;

-- Fires when search_refresh writes the row, before it adds the lower-case
-- words itself (which then finds them listed).
CREATE TRIGGER search_words_document
    AFTER INSERT OR UPDATE OF title, body_text ON search_documents
    FOR EACH ROW EXECUTE FUNCTION search_words_document();

CREATE FUNCTION search_words_topic() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    PERFORM search_words_add(concat_ws(' ', NEW.name_de, NEW.name_en));
    RETURN NULL;
END $$;

CREATE TRIGGER search_words_topic
    AFTER INSERT OR UPDATE OF name_de, name_en ON topics
    FOR EACH ROW EXECUTE FUNCTION search_words_topic();

CREATE FUNCTION search_words_city() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    PERFORM search_words_add(NEW.name);
    RETURN NULL;
END $$;

CREATE TRIGGER search_words_city
    AFTER INSERT OR UPDATE OF name ON cities
    FOR EACH ROW EXECUTE FUNCTION search_words_city();

-- What is listed already, one text at a time (all at once could exceed the
-- 1 GB a text may have); ≈ 1.5 ms per article.
SELECT count(search_words_add(t)) FROM (
    SELECT concat_ws(' ', name_de, name_en) AS t FROM topics
    UNION ALL SELECT name FROM cities
    UNION ALL (SELECT concat_ws(' ', title, body_text) FROM search_documents ORDER BY article_id)) x;

-- Questions: title (A), text (B) and each answer (C), German as articles.
ALTER TABLE questions ADD COLUMN tsv tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('hansewiki_german', hansewiki_ts_text(title)), 'A') ||
    setweight(to_tsvector('hansewiki_german', hansewiki_ts_text(body)), 'B')) STORED;
CREATE INDEX questions_tsv_idx ON questions USING gin (tsv);

ALTER TABLE question_answers ADD COLUMN tsv tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('hansewiki_german', hansewiki_ts_text(body)), 'C')) STORED;
CREATE INDEX question_answers_tsv_idx ON question_answers USING gin (tsv);
