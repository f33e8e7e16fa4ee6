-- Adoption (issue 13): an article may name the article of another city it
-- builds on, as "city/slug". The source lists the articles that adopted it
-- (read through the index below).
ALTER TABLE revisions ADD COLUMN adopted_from text
    CHECK (adopted_from ~ '^[a-z0-9][a-z0-9-]*/[a-z0-9][a-z0-9-]*$');
CREATE INDEX revisions_adopted_from_idx ON revisions (adopted_from) WHERE adopted_from IS NOT NULL;
