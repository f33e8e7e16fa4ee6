-- Absence and deputies, roles with an end date (issue 14).

-- A reviewer's absence: from starts_on to ends_on (both whole days,
-- Europe/Berlin) the deputy, a reviewer of the same city, also receives
-- the absent person's notifications about that city, and reminders reach
-- the deputy instead. Deleting an absence ends it.
CREATE TABLE absences (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    bigint NOT NULL REFERENCES users (id),
    city       text NOT NULL REFERENCES cities (slug),
    deputy_id  bigint NOT NULL REFERENCES users (id),
    starts_on  date NOT NULL,
    ends_on    date NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK (starts_on <= ends_on),
    CHECK (deputy_id <> user_id)
);
CREATE INDEX absences_user_idx ON absences (user_id, ends_on);

-- A notification that reached a deputy names whom they stand in for.
ALTER TABLE notifications ADD COLUMN deputy_for bigint REFERENCES users (id);

-- A role granted until a date: the grant (a casbin 'g' rule) holds through
-- that day and the periodic job "roles.end" removes it afterwards. Kept
-- beside casbin_rules, whose layout casbin's adapter reads; revoking the
-- rule removes its end date.
CREATE TABLE role_ends (
    rule_id bigint PRIMARY KEY REFERENCES casbin_rules (id) ON DELETE CASCADE,
    until   date NOT NULL
);
CREATE INDEX role_ends_until_idx ON role_ends (until);
