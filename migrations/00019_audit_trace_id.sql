-- +goose Up
-- The trace of the request an audit entry records (its W3C trace id, 32 hex
-- digits), to find the request's spans from the audit; '' for entries written
-- without tracing, or before it.
ALTER TABLE custom_gpt_audit_entries ADD COLUMN trace_id text NOT NULL DEFAULT '';
-- The trace a webhook delivery's attempts are sent in: the W3C traceparent of
-- the span that scheduled it from its event; '' when that was not traced.
ALTER TABLE custom_gpt_webhook_deliveries ADD COLUMN traceparent text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE custom_gpt_webhook_deliveries DROP COLUMN traceparent;
ALTER TABLE custom_gpt_audit_entries DROP COLUMN trace_id;
