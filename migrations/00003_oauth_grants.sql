-- +goose Up
-- Pending authorization requests, from /authorize until their code is redeemed.
-- Only a hash of the code is stored; code_used_at makes redemption single-use.
CREATE TABLE custom_gpt_auth_requests (
    id                    text PRIMARY KEY,
    client_id             text        NOT NULL REFERENCES custom_gpt_applications (id),
    redirect_uri          text        NOT NULL,
    scopes                text[]      NOT NULL,
    state                 text        NOT NULL DEFAULT '',
    nonce                 text        NOT NULL DEFAULT '',
    response_type         text        NOT NULL,
    response_mode         text        NOT NULL DEFAULT '',
    code_challenge        text        NOT NULL DEFAULT '',
    code_challenge_method text        NOT NULL DEFAULT '',
    subject               text,
    auth_time             timestamptz,
    done                  boolean     NOT NULL DEFAULT false,
    code_hash             bytea UNIQUE,
    code_issued_at        timestamptz,
    code_used_at          timestamptz,
    grant_id              text,
    created_at            timestamptz NOT NULL,
    expires_at            timestamptz NOT NULL
);
CREATE INDEX custom_gpt_auth_requests_expires ON custom_gpt_auth_requests (expires_at);

-- A grant is one authorization of a client by a subject: the family of every
-- access and refresh token issued from one code (or one client_credentials
-- exchange). Revoking it revokes them all.
CREATE TABLE custom_gpt_oauth_grants (
    id         text PRIMARY KEY,
    client_id  text        NOT NULL REFERENCES custom_gpt_applications (id),
    subject    text        NOT NULL,
    scopes     text[]      NOT NULL,
    auth_time  timestamptz,
    created_at timestamptz NOT NULL,
    revoked_at timestamptz
);

-- Refresh tokens, stored as hashes. Each is used once: using it again means it
-- leaked, and the whole grant is revoked.
CREATE TABLE custom_gpt_refresh_tokens (
    token_hash bytea PRIMARY KEY,
    grant_id   text        NOT NULL REFERENCES custom_gpt_oauth_grants (id),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz,
    created_at timestamptz NOT NULL
);
CREATE INDEX custom_gpt_refresh_tokens_grant ON custom_gpt_refresh_tokens (grant_id);

-- Access tokens revoked one by one (RFC 7009) before they expire.
CREATE TABLE custom_gpt_revoked_access_tokens (
    jti        text PRIMARY KEY,
    expires_at timestamptz NOT NULL
);

-- +goose Down
DROP TABLE custom_gpt_revoked_access_tokens;
DROP TABLE custom_gpt_refresh_tokens;
DROP TABLE custom_gpt_oauth_grants;
DROP TABLE custom_gpt_auth_requests;
