-- +goose Up
-- The audit's request_id is always made by the service; the X-Request-ID a
-- client sends is kept beside it as the correlation id (the request id when the
-- client sent none).
ALTER TABLE custom_gpt_audit_entries ADD COLUMN correlation_id text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE custom_gpt_audit_entries DROP COLUMN correlation_id;
