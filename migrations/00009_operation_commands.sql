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

-- Only pending operations keep a command, so the index stays small; created_at
-- never changes, so the worker's claims remain HOT updates.
CREATE INDEX custom_gpt_operations_kept_command
    ON custom_gpt_operations (created_at) WHERE command IS NOT NULL;

-- +goose Down
DROP INDEX custom_gpt_operations_kept_command;
ALTER TABLE custom_gpt_operations
    DROP COLUMN resent_at,
    DROP COLUMN command,
    DROP COLUMN command_name;
