-- Watching a city: what it publishes reaches the watcher's weekly digest.
CREATE TABLE city_watches (
    user_id    bigint NOT NULL REFERENCES users (id),
    city       text NOT NULL REFERENCES cities (slug),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, city)
);
-- Watched cities are part of a member's cached personal state (0011).
CREATE TRIGGER city_watches_personal_change AFTER INSERT OR UPDATE OR DELETE ON city_watches
    FOR EACH ROW EXECUTE FUNCTION notify_personal_change();
