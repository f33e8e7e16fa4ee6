-- Autosaved editor text: what a person typed and has not saved as a change
-- yet, one row per person and editing target ("new:rostock",
-- "edit:rostock/pegel", "change:42"), so a lost session, a crash or a closed
-- tab loses nothing. Only its owner reads it; saving the change deletes it.
CREATE TABLE editor_autosaves (
    user_id  bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    target   text NOT NULL CHECK (length(target) BETWEEN 1 AND 300),
    fields   jsonb NOT NULL,
    saved_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, target)
);
