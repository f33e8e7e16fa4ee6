-- Periodic work (issue 14): what each job did in its last run, for the
-- dashboard and for operators. Which process runs the jobs is decided by
-- a PostgreSQL advisory lock, not by a row here.
CREATE TABLE job_runs (
    name        text PRIMARY KEY,
    as_of       timestamptz NOT NULL,
    started_at  timestamptz NOT NULL,
    finished_at timestamptz NOT NULL,
    done        integer NOT NULL,
    error       text NOT NULL DEFAULT ''
);
