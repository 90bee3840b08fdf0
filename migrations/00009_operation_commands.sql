-- +goose Up
-- Each pending operation keeps the command (its JSON, as bytes: jsonb refuses
-- \u0000, which an id from a path may hold) that was queued for it, so a worker
-- can send it again if Redis lost it (a crash between fsyncs, a failover that
-- dropped acknowledged writes). It is cleared when the operation ends: a
-- memory's content stays no longer than its work.
ALTER TABLE custom_gpt_operations
    ADD COLUMN command_name text,
    ADD COLUMN command      bytea,
    ADD COLUMN resent_at    timestamptz;

CREATE INDEX custom_gpt_operations_pending_idx
    ON custom_gpt_operations (command_name, updated_at) WHERE status = 'pending';

-- +goose Down
DROP INDEX custom_gpt_operations_pending_idx;
ALTER TABLE custom_gpt_operations
    DROP COLUMN resent_at,
    DROP COLUMN command,
    DROP COLUMN command_name;
