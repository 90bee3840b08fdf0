-- +goose Up
-- The pending writes of each scope, in their order. A worker asks, for every
-- write it claims and every write it ends, whether an earlier write of the
-- scope is pending and which one comes next: through the scope's whole history
-- (custom_gpt_operations_scope_seq) each question read every ended write before
-- the answer, so a busy scope's writes slowed down as it grew.
CREATE INDEX custom_gpt_operations_pending_seq ON custom_gpt_operations (app_id, end_user, seq)
    WHERE status = 'pending';

-- +goose Down
DROP INDEX custom_gpt_operations_pending_seq;
