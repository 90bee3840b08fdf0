-- +goose Up
CREATE TABLE custom_gpt_applications (
    id         text PRIMARY KEY,
    name       text        NOT NULL,
    status     text        NOT NULL CHECK (status IN ('active', 'disabled')),
    key_hash   bytea       NOT NULL UNIQUE,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);

CREATE TABLE custom_gpt_operations (
    id          text PRIMARY KEY,
    app_id      text        NOT NULL REFERENCES custom_gpt_applications (id),
    end_user    text        NOT NULL DEFAULT '',
    kind        text        NOT NULL,
    status      text        NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    memory_ids  text[]      NOT NULL DEFAULT '{}',
    failure     jsonb,
    attempts    integer     NOT NULL DEFAULT 0,
    lease_until timestamptz,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);

-- One row per audited call. An asynchronous call's row moves from pending to a
-- terminal status once; the partial unique index keeps it to one row per operation.
CREATE TABLE custom_gpt_audit_entries (
    id           bigserial PRIMARY KEY,
    app_id       text        NOT NULL,
    end_user     text        NOT NULL DEFAULT '',
    action       text        NOT NULL,
    status       text        NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    request_id   text        NOT NULL,
    operation_id text,
    detail       text        NOT NULL DEFAULT '',
    occurred_at  timestamptz NOT NULL,
    completed_at timestamptz
);
CREATE INDEX custom_gpt_audit_entries_app_id ON custom_gpt_audit_entries (app_id, id DESC);
CREATE UNIQUE INDEX custom_gpt_audit_entries_operation_id ON custom_gpt_audit_entries (operation_id)
    WHERE operation_id IS NOT NULL;

-- The transactional outbox: watermill-sql's PostgreSQL schema, created here because
-- its publisher may not create tables inside our transactions.
CREATE TABLE custom_gpt_outbox (
    "offset"       bigserial,
    uuid           varchar(36) NOT NULL,
    created_at     timestamp   NOT NULL DEFAULT CURRENT_TIMESTAMP,
    payload        json DEFAULT NULL,
    metadata       json DEFAULT NULL,
    transaction_id xid8        NOT NULL,
    PRIMARY KEY (transaction_id, "offset")
);
CREATE TABLE custom_gpt_outbox_offsets (
    consumer_group                varchar(255) NOT NULL,
    offset_acked                  bigint,
    last_processed_transaction_id xid8         NOT NULL,
    PRIMARY KEY (consumer_group)
);

-- The embedded Memory Bank, for local use when no mem0 URL is configured.
CREATE TABLE custom_gpt_embedded_memories (
    id         uuid PRIMARY KEY,
    agent_id   text        NOT NULL,
    user_id    text        NOT NULL,
    content    text        NOT NULL,
    metadata   jsonb       NOT NULL DEFAULT '{}',
    document   tsvector GENERATED ALWAYS AS (to_tsvector('english'::regconfig, content)) STORED,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX custom_gpt_embedded_memories_scope ON custom_gpt_embedded_memories (agent_id, user_id, created_at DESC);
CREATE INDEX custom_gpt_embedded_memories_document ON custom_gpt_embedded_memories USING gin (document);
CREATE INDEX custom_gpt_embedded_memories_operation ON custom_gpt_embedded_memories ((metadata ->> 'operation_id'));

-- +goose Down
DROP TABLE custom_gpt_embedded_memories;
DROP TABLE custom_gpt_outbox_offsets;
DROP TABLE custom_gpt_outbox;
DROP TABLE custom_gpt_audit_entries;
DROP TABLE custom_gpt_operations;
DROP TABLE custom_gpt_applications;
