-- +goose Up
-- How many memories a forget_memories operation removed; 0 for every other kind,
-- and for every operation written before this migration.
ALTER TABLE custom_gpt_operations ADD COLUMN removed integer NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE custom_gpt_operations DROP COLUMN removed;
