-- Accounts, sessions, tokens, login throttling and the casbin policy store.

ALTER TABLE users
    ADD COLUMN password_hash text NOT NULL DEFAULT '',
    ADD COLUMN disabled boolean NOT NULL DEFAULT false;

-- Server-side sessions (github.com/alexedwards/scs pgxstore layout).
CREATE TABLE sessions (
    token  text PRIMARY KEY,
    data   bytea NOT NULL,
    expiry timestamptz NOT NULL
);
CREATE INDEX sessions_expiry_idx ON sessions (expiry);

-- Bearer tokens: personal access tokens and API logins. Only a SHA-256 of
-- the token is stored; the token itself is shown once.
CREATE TABLE api_tokens (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id      bigint NOT NULL REFERENCES users (id),
    kind         text NOT NULL CHECK (kind IN ('personal', 'login')),
    name         text NOT NULL DEFAULT '',
    token_hash   bytea NOT NULL UNIQUE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz,
    last_used_at timestamptz,
    revoked_at   timestamptz
);
CREATE INDEX api_tokens_user_idx ON api_tokens (user_id, id);

-- Failed logins per account and per address, for throttling across instances.
CREATE TABLE login_failures (
    key text NOT NULL,
    at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_failures_key_idx ON login_failures (key, at);

-- casbin policy: p rules are the permission table of the specification,
-- g rules assign a role to a user in a city domain ("*" = every city).
CREATE TABLE casbin_rules (
    id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ptype text NOT NULL CHECK (ptype IN ('p', 'g')),
    v0    text NOT NULL,
    v1    text NOT NULL,
    v2    text NOT NULL,
    v3    text NOT NULL DEFAULT '',
    UNIQUE (ptype, v0, v1, v2, v3)
);

INSERT INTO casbin_rules (ptype, v0, v1, v2, v3) VALUES
    ('p', 'author',   '*', 'article', 'read_city'),
    ('p', 'author',   '*', 'article', 'create'),
    ('p', 'author',   '*', 'change',  'propose'),
    ('p', 'reviewer', '*', 'article', 'read_city'),
    ('p', 'reviewer', '*', 'change',  'review'),
    ('p', 'admin',    '*', 'article', 'read_city'),
    ('p', 'admin',    '*', 'article', 'create'),
    ('p', 'admin',    '*', 'article', 'archive'),
    ('p', 'admin',    '*', 'change',  'propose'),
    ('p', 'admin',    '*', 'change',  'review'),
    ('p', 'admin',    '*', 'city',    'manage'),
    ('p', 'admin',    '*', 'audit',   'read'),
    -- Only an admin of the domain "*" reaches the network domain.
    ('p', 'admin',    '*', 'network', 'manage');
