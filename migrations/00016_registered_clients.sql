-- +goose Up
-- Clients that register themselves to reach MCP endpoints: by Dynamic Client
-- Registration (RFC 7591, id 'mcpc_…') or by a Client ID Metadata Document
-- (id: the document's https URL; refresh_at: when to fetch it again).
CREATE TABLE custom_gpt_oauth_clients (
    id            text PRIMARY KEY,
    kind          text        NOT NULL CHECK (kind IN ('registered', 'metadata-document')),
    name          text        NOT NULL DEFAULT '',
    uri           text        NOT NULL DEFAULT '',
    redirect_uris text[]      NOT NULL,
    auth_method   text        NOT NULL,
    secret_hash   bytea,
    created_at    timestamptz NOT NULL,
    refresh_at    timestamptz
);

-- Which applications each such client asked to reach, and whether the
-- application's operator revoked it there (`apps revoke-client`).
CREATE TABLE custom_gpt_app_clients (
    app_id     text        NOT NULL REFERENCES custom_gpt_applications (id),
    client_id  text        NOT NULL REFERENCES custom_gpt_oauth_clients (id) ON DELETE CASCADE,
    first_used timestamptz NOT NULL,
    last_used  timestamptz NOT NULL,
    revoked_at timestamptz,
    PRIMARY KEY (app_id, client_id)
);
CREATE INDEX custom_gpt_app_clients_client ON custom_gpt_app_clients (client_id);

-- The redirect hosts an application allows such clients beyond the defaults.
ALTER TABLE custom_gpt_applications ADD COLUMN mcp_redirect_hosts text[] NOT NULL DEFAULT '{}';

-- A request or grant now names its application apart from its client, which
-- may be a registered one: client_id no longer references an application.
ALTER TABLE custom_gpt_auth_requests ADD COLUMN app_id text REFERENCES custom_gpt_applications (id);
UPDATE custom_gpt_auth_requests SET app_id = client_id;
ALTER TABLE custom_gpt_auth_requests ALTER COLUMN app_id SET NOT NULL;
ALTER TABLE custom_gpt_auth_requests DROP CONSTRAINT custom_gpt_auth_requests_client_id_fkey;

ALTER TABLE custom_gpt_oauth_grants ADD COLUMN app_id text REFERENCES custom_gpt_applications (id);
UPDATE custom_gpt_oauth_grants SET app_id = client_id;
ALTER TABLE custom_gpt_oauth_grants ALTER COLUMN app_id SET NOT NULL;
ALTER TABLE custom_gpt_oauth_grants DROP CONSTRAINT custom_gpt_oauth_grants_client_id_fkey;
CREATE INDEX custom_gpt_oauth_grants_app_client ON custom_gpt_oauth_grants (app_id, client_id);

-- +goose Down
DROP INDEX custom_gpt_oauth_grants_app_client;
DELETE FROM custom_gpt_refresh_tokens WHERE grant_id IN (SELECT id FROM custom_gpt_oauth_grants WHERE client_id <> app_id);
DELETE FROM custom_gpt_oauth_grants WHERE client_id <> app_id;
DELETE FROM custom_gpt_auth_requests WHERE client_id <> app_id;
ALTER TABLE custom_gpt_oauth_grants ADD CONSTRAINT custom_gpt_oauth_grants_client_id_fkey
    FOREIGN KEY (client_id) REFERENCES custom_gpt_applications (id);
ALTER TABLE custom_gpt_oauth_grants DROP COLUMN app_id;
ALTER TABLE custom_gpt_auth_requests ADD CONSTRAINT custom_gpt_auth_requests_client_id_fkey
    FOREIGN KEY (client_id) REFERENCES custom_gpt_applications (id);
ALTER TABLE custom_gpt_auth_requests DROP COLUMN app_id;
ALTER TABLE custom_gpt_applications DROP COLUMN mcp_redirect_hosts;
DROP TABLE custom_gpt_app_clients;
DROP TABLE custom_gpt_oauth_clients;
