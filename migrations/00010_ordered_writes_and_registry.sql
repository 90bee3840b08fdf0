-- +goose Up
-- Writes of one memory space (an application and one of its end users) take
-- effect in the order they were accepted. Each scope counts its writes; each
-- operation keeps its place (seq) in that count. forgot_seq is the place of the
-- newest forget that succeeded: a write accepted before it can no longer add
-- what that forget removed.
CREATE TABLE custom_gpt_scopes (
    app_id     text   NOT NULL,
    end_user   text   NOT NULL,
    last_seq   bigint NOT NULL,
    forgot_seq bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (app_id, end_user)
);

-- seq: the operation's place among its scope's writes.
-- waiting: its command was set aside while an earlier write of the scope was
--   still pending; that one sends it again when it ends.
-- bank_event: mem0's id of work it accepted for the operation and is still
--   doing (an asynchronous add), followed by later attempts.
-- command_entry: the stream entry its command was last queued as, to tell a
--   command still on its way from one Redis lost.
-- note: a word for the caller about the outcome (an add that stored nothing).
ALTER TABLE custom_gpt_operations
    ADD COLUMN seq           bigint  NOT NULL DEFAULT 0,
    ADD COLUMN waiting       boolean NOT NULL DEFAULT false,
    ADD COLUMN bank_event    text,
    ADD COLUMN command_entry text,
    ADD COLUMN note          text    NOT NULL DEFAULT '';

-- Operations recorded before this migration get their places in order of acceptance.
UPDATE custom_gpt_operations o SET seq = s.n
FROM (SELECT id, row_number() OVER (PARTITION BY app_id, end_user ORDER BY created_at, id) AS n
      FROM custom_gpt_operations) s
WHERE o.id = s.id;

INSERT INTO custom_gpt_scopes (app_id, end_user, last_seq, forgot_seq)
SELECT app_id, end_user, max(seq),
       coalesce(max(seq) FILTER (WHERE kind = 'forget_memories' AND status = 'succeeded'), 0)
FROM custom_gpt_operations GROUP BY app_id, end_user;

CREATE INDEX custom_gpt_operations_scope_seq ON custom_gpt_operations (app_id, end_user, seq);

-- The registry of every memory this service stored, written in the transaction
-- that completes the operation: listing, paging, ownership and forgetting read
-- it instead of mem0, which lists at most 20, 100 or 1000 memories of a scope
-- in no useful order. seq is the place of the write that created the memory;
-- written_seq that of the newest write that changed it.
CREATE TABLE custom_gpt_memories (
    memory_id    text PRIMARY KEY,
    app_id       text        NOT NULL,
    end_user     text        NOT NULL,
    operation_id text        NOT NULL,
    seq          bigint      NOT NULL,
    written_seq  bigint      NOT NULL,
    created_at   timestamptz NOT NULL
);
CREATE INDEX custom_gpt_memories_scope ON custom_gpt_memories (app_id, end_user, created_at DESC, memory_id DESC);

-- Memories stored before this migration: those of succeeded creates, less what
-- a succeeded delete or a later succeeded forget removed.
INSERT INTO custom_gpt_memories (memory_id, app_id, end_user, operation_id, seq, written_seq, created_at)
SELECT DISTINCT ON (m.id) m.id, o.app_id, o.end_user, o.id, o.seq, o.seq, o.updated_at
FROM custom_gpt_operations o, unnest(o.memory_ids) AS m(id)
WHERE o.kind = 'create_memory' AND o.status = 'succeeded'
ORDER BY m.id, o.seq;

DELETE FROM custom_gpt_memories r USING custom_gpt_operations d
WHERE d.kind = 'delete_memory' AND d.status = 'succeeded'
  AND d.app_id = r.app_id AND d.end_user = r.end_user AND r.memory_id = ANY (d.memory_ids);

DELETE FROM custom_gpt_memories r USING custom_gpt_scopes s
WHERE s.app_id = r.app_id AND s.end_user = r.end_user AND r.seq < s.forgot_seq;

-- +goose Down
DROP TABLE custom_gpt_memories;
DROP INDEX custom_gpt_operations_scope_seq;
ALTER TABLE custom_gpt_operations
    DROP COLUMN note,
    DROP COLUMN command_entry,
    DROP COLUMN bank_event,
    DROP COLUMN waiting,
    DROP COLUMN seq;
DROP TABLE custom_gpt_scopes;
