-- Publication barrier (issue 9): a change that narrows who may read an
-- article takes effect on every instance before its approval answers.
--
-- narrowing_generation counts committed narrowing publications and
-- archivings; the narrowing transaction raises it, so other instances read
-- the new value only once the change is visible to them. One row: narrowing
-- changes are rare, and the row lock orders them.
CREATE TABLE narrowing_generation (
    one        boolean PRIMARY KEY DEFAULT true CHECK (one),
    generation bigint NOT NULL
);
INSERT INTO narrowing_generation (generation) VALUES (0);

-- Every serving instance: the generation its page cache is known to be in
-- step with (acked), and when it last said it is alive. A narrowing request
-- waits until every instance alive recently has acked its generation.
CREATE TABLE instances (
    id       text PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 100),
    acked    bigint NOT NULL,
    alive_at timestamptz NOT NULL DEFAULT now()
);
