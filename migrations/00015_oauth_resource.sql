-- +goose Up
-- The RFC 8707 resource an authorization request asked for, and the grant it
-- became: an application's MCP endpoint, whose URL is then the audience of
-- every access token of the grant. Empty: the API (/api/v1), as before.
ALTER TABLE custom_gpt_auth_requests ADD COLUMN resource text NOT NULL DEFAULT '';
ALTER TABLE custom_gpt_oauth_grants ADD COLUMN resource text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE custom_gpt_oauth_grants DROP COLUMN resource;
ALTER TABLE custom_gpt_auth_requests DROP COLUMN resource;
