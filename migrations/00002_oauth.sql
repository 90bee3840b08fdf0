-- +goose Up
-- Every application is also a confidential OAuth client; its client_id is its app id.
ALTER TABLE custom_gpt_applications
    ADD COLUMN client_secret_hash bytea,
    ADD COLUMN redirect_uris      text[] NOT NULL DEFAULT '{}';

-- End users who sign in to connect a GPT. Passwords are argon2id PHC strings.
CREATE TABLE custom_gpt_users (
    id            text PRIMARY KEY,
    email         text        NOT NULL,
    password_hash text,
    status        text        NOT NULL CHECK (status IN ('active', 'disabled')),
    upstream_sub  text,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL
);
CREATE UNIQUE INDEX custom_gpt_users_email ON custom_gpt_users (lower(email));
CREATE UNIQUE INDEX custom_gpt_users_upstream_sub ON custom_gpt_users (upstream_sub) WHERE upstream_sub IS NOT NULL;

-- Browser sessions of signed-in users; only a hash of the cookie value is stored.
CREATE TABLE custom_gpt_sessions (
    id_hash    bytea PRIMARY KEY,
    user_id    text        NOT NULL REFERENCES custom_gpt_users (id),
    auth_time  timestamptz NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX custom_gpt_sessions_expires ON custom_gpt_sessions (expires_at);

-- Keys that sign access tokens. A key signs until a newer one exists and verifies
-- until verify_until, after its last token has expired.
CREATE TABLE custom_gpt_signing_keys (
    kid          text PRIMARY KEY,
    algorithm    text        NOT NULL,
    private_key  bytea       NOT NULL,
    created_at   timestamptz NOT NULL,
    verify_until timestamptz
);

-- +goose Down
DROP TABLE custom_gpt_signing_keys;
DROP TABLE custom_gpt_sessions;
DROP TABLE custom_gpt_users;
ALTER TABLE custom_gpt_applications DROP COLUMN redirect_uris, DROP COLUMN client_secret_hash;
