-- Sign-in under attack.
--
-- A password change (or reset, or disabling the account) bumps the account's
-- credentials version. A session and a login token carry the version they
-- were issued under and stop working when it changed, on every instance at
-- once; personal access tokens carry none and stay until revoked.
ALTER TABLE users ADD COLUMN credentials_version bigint NOT NULL DEFAULT 0;
ALTER TABLE api_tokens ADD COLUMN credentials_version bigint;
-- Login tokens issued before this migration belong to version 0.
UPDATE api_tokens SET credentials_version = 0 WHERE kind = 'login';
ALTER TABLE api_tokens ADD CONSTRAINT api_tokens_login_version
    CHECK ((kind = 'login') = (credentials_version IS NOT NULL));

-- A sign-in reserves its rows in login_failures before the password is
-- checked (so a parallel burst cannot outrun the count) and deletes them
-- again by attempt when it succeeds.
ALTER TABLE login_failures ADD COLUMN attempt bigint;
CREATE SEQUENCE login_attempts;
CREATE INDEX login_failures_attempt_idx ON login_failures (attempt);

-- Browsers that signed in as a user before ("device cookies", OWASP): their
-- sign-ins are exempt from failures caused elsewhere and count their own.
-- Only a SHA-256 of the cookie's random token is stored.
CREATE TABLE known_devices (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash bytea NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);
CREATE INDEX known_devices_user_idx ON known_devices (user_id, created_at);
-- Rows of keys nobody tries again are pruned by age.
CREATE INDEX login_failures_at_idx ON login_failures (at);
