-- +goose Up
-- The changes of the embedded Memory Bank's memories, one row per ADD, UPDATE and
-- DELETE, as mem0 keeps them. Rows outlive their memory, as in mem0; they carry the
-- scope so that a read can be pinned to it. The identity orders a memory's changes.
CREATE TABLE custom_gpt_embedded_memory_history (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    memory_id   uuid        NOT NULL,
    agent_id    text        NOT NULL,
    user_id     text        NOT NULL,
    old_content text,
    new_content text,
    event       text        NOT NULL CHECK (event IN ('ADD', 'UPDATE', 'DELETE')),
    created_at  timestamptz NOT NULL
);
CREATE INDEX custom_gpt_embedded_memory_history_memory ON custom_gpt_embedded_memory_history (memory_id, id);

-- Memories stored before this migration get the ADD they would have had: until now
-- the embedded bank could not change a memory, so its content is the added one.
INSERT INTO custom_gpt_embedded_memory_history (memory_id, agent_id, user_id, old_content, new_content, event, created_at)
SELECT id, agent_id, user_id, NULL, content, 'ADD', created_at
FROM custom_gpt_embedded_memories
ORDER BY created_at, id;

-- Pages of a scope, newest first, continue after (created_at, id): index that order.
DROP INDEX custom_gpt_embedded_memories_scope;
CREATE INDEX custom_gpt_embedded_memories_scope ON custom_gpt_embedded_memories (agent_id, user_id, created_at DESC, id DESC);

-- +goose Down
DROP INDEX custom_gpt_embedded_memories_scope;
CREATE INDEX custom_gpt_embedded_memories_scope ON custom_gpt_embedded_memories (agent_id, user_id, created_at DESC);
DROP TABLE custom_gpt_embedded_memory_history;
