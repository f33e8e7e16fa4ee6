-- Editing and moderating questions (issue 13). The asker edits a question
-- until it has an answer; an answer's author edits it for 15 minutes, as
-- a comment. The asker, network admins and the admins of a city the
-- question asks close it (resolved: it leaves the lists of open
-- questions) and reopen it; network admins and those city admins hide a
-- question or an answer (audited). Hidden rows stay for the audit trail
-- and the notifications that name them.
ALTER TABLE questions
    ADD COLUMN edited_at timestamptz,
    ADD COLUMN closed_at timestamptz,
    ADD COLUMN closed_by text NOT NULL DEFAULT '',
    ADD COLUMN hidden_at timestamptz,
    ADD COLUMN hidden_by text NOT NULL DEFAULT '';

ALTER TABLE question_answers
    ADD COLUMN edited_at timestamptz,
    ADD COLUMN hidden_at timestamptz,
    ADD COLUMN hidden_by text NOT NULL DEFAULT '';
