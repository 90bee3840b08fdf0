-- +goose Up
-- An application's MCP endpoint (/mcp/{app_id}) answers only once its operator
-- switches it on (`apps set-mcp APP --enable`): existing GPTs gain no new door.
ALTER TABLE custom_gpt_applications ADD COLUMN mcp_enabled boolean NOT NULL DEFAULT false;
-- Which door a call came through: the REST API ('api') or MCP ('mcp'). Entries
-- written before this migration all came through the API.
ALTER TABLE custom_gpt_audit_entries ADD COLUMN channel text NOT NULL DEFAULT 'api';

-- +goose Down
ALTER TABLE custom_gpt_audit_entries DROP COLUMN channel;
ALTER TABLE custom_gpt_applications DROP COLUMN mcp_enabled;
