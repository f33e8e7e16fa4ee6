-- Review deadlines (issue 14): each city's policy says in how many calendar
-- days a change in review is due. The clock starts whenever a change
-- enters review (its submission, a resubmission after requested changes,
-- the rebase of a conflict): the time the author had it back is not the
-- reviewers' delay. The due date a change got stays with it, like its
-- quorum: a later policy change does not move deadlines in flight.
ALTER TABLE cities ADD COLUMN review_days integer NOT NULL DEFAULT 5 CHECK (review_days BETWEEN 1 AND 60);

ALTER TABLE change_requests
    ADD COLUMN review_started_at timestamptz,
    ADD COLUMN due_at timestamptz;

-- Changes already in review: their clock started when they last entered
-- review (an approval short of the quorum does not touch updated_at).
UPDATE change_requests c
SET review_started_at = c.updated_at,
    due_at = c.updated_at + make_interval(days => ci.review_days)
FROM articles a JOIN cities ci ON ci.slug = a.city
WHERE a.id = c.article_id AND c.state = 'in_review';

CREATE INDEX change_requests_due_idx ON change_requests (due_at) WHERE state = 'in_review';

-- What the deadline job sent: each step once per change and review round
-- (a round is identified by its due date). Steps: 'reminder' to the
-- reviewers at half time, 'overdue' to the city's admins at the due date,
-- 'escalated' to the network admins a day later.
CREATE TABLE review_reminders (
    change_id  bigint NOT NULL REFERENCES change_requests (id),
    due_at     timestamptz NOT NULL,
    step       text NOT NULL CHECK (step IN ('reminder', 'overdue', 'escalated')),
    as_of      timestamptz NOT NULL,
    recipients integer NOT NULL,
    sent_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (change_id, due_at, step)
);
