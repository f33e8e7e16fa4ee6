-- Questions across cities (issue 13): a member asks "Wer hat Erfahrung mit
-- …?" with topics and, optionally, the cities asked; members answer with
-- text and links to articles; the asker marks answers helpful. Questions
-- are network-visible: members only.
CREATE TABLE questions (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    author_id  bigint NOT NULL REFERENCES users (id),
    title      text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    body       text NOT NULL CHECK (length(body) <= 20000),
    topics     text[] NOT NULL,
    cities     text[] NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX questions_topics_idx ON questions USING gin (topics);
CREATE INDEX questions_cities_idx ON questions USING gin (cities);

CREATE TABLE question_answers (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    question_id bigint NOT NULL REFERENCES questions (id),
    author_id   bigint NOT NULL REFERENCES users (id),
    body        text NOT NULL CHECK (length(body) BETWEEN 1 AND 20000),
    helpful     boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX question_answers_question_idx ON question_answers (question_id, id);

-- The articles an answer links to, by id: a reader sees only those they may
-- read now (visibility is decided when the answer is shown).
CREATE TABLE question_answer_articles (
    answer_id  bigint NOT NULL REFERENCES question_answers (id),
    position   integer NOT NULL,
    article_id bigint NOT NULL REFERENCES articles (id),
    PRIMARY KEY (answer_id, article_id)
);

-- Watching a topic: its questions reach the watcher.
CREATE TABLE topic_watches (
    user_id    bigint NOT NULL REFERENCES users (id),
    topic      text NOT NULL REFERENCES topics (slug),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, topic)
);
CREATE INDEX topic_watches_topic_idx ON topic_watches (topic);
-- Watched topics are part of a member's cached personal state (0011).
CREATE TRIGGER topic_watches_personal_change AFTER INSERT OR UPDATE OR DELETE ON topic_watches
    FOR EACH ROW EXECUTE FUNCTION notify_personal_change();

ALTER TABLE notifications ADD COLUMN question_id bigint REFERENCES questions (id);
