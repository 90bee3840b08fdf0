-- +goose Up
-- The audit's request_id is always made by the service; the X-Request-ID a
-- client sends is kept beside it as the correlation id (the request id when the
-- client sent none).
ALTER TABLE custom_gpt_audit_entries ADD COLUMN correlation_id text NOT NULL DEFAULT '';

-- An end user's grants are looked up by subject: the account page lists them,
-- a disconnect or a disable revokes them.
CREATE INDEX custom_gpt_oauth_grants_subject ON custom_gpt_oauth_grants (subject, client_id);

-- +goose Down
DROP INDEX custom_gpt_oauth_grants_subject;
ALTER TABLE custom_gpt_audit_entries DROP COLUMN correlation_id;
