-- +goose Up
-- The workers purge what the authorization server no longer needs
-- (adapters/postgres.PurgeExpiredOAuth); these indexes keep that from
-- scanning whole tables. Requests and sessions have theirs since 00002/00003.
CREATE INDEX custom_gpt_refresh_tokens_expires ON custom_gpt_refresh_tokens (expires_at);
CREATE INDEX custom_gpt_revoked_access_tokens_expires ON custom_gpt_revoked_access_tokens (expires_at);
CREATE INDEX custom_gpt_oauth_grants_created ON custom_gpt_oauth_grants (created_at);

-- +goose Down
DROP INDEX custom_gpt_oauth_grants_created;
DROP INDEX custom_gpt_revoked_access_tokens_expires;
DROP INDEX custom_gpt_refresh_tokens_expires;
