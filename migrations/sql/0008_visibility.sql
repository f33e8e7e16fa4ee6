-- One visibility rule for every rendering (issue 9).

-- Every revision that links to an article is rendered again when that
-- article appears or its title or visibility changes (a link must look
-- missing to readers who may not open its target), so revisions are found
-- by their links, not only through the published link graph.
CREATE INDEX revisions_links_idx ON revisions USING gin (links);

-- A queued mail names an article; the sender checks right before sending
-- that its recipient may still read it, so it needs to know both.
ALTER TABLE mail_queue
    ADD COLUMN user_id    bigint REFERENCES users (id) ON DELETE CASCADE,
    ADD COLUMN change_id  bigint,
    ADD COLUMN article_id bigint;
