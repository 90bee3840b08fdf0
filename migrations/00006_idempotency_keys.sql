-- +goose Up
-- Idempotency-Key records (draft-ietf-httpapi-idempotency-key-header), one per
-- key of an application's end user. A record is in flight while its request
-- runs (lock_token proves ownership until locked_until), then completed with the
-- response to replay. Rows past expires_at are ignored, overwritten by the next
-- request with their key, and deleted by purges.
-- No foreign key to the applications: a record outlives nothing but its 24 hours.
CREATE TABLE custom_gpt_idempotency_keys (
    app_id           text        NOT NULL,
    end_user         text        NOT NULL DEFAULT '',
    key              text        NOT NULL,
    fingerprint      bytea       NOT NULL CHECK (length(fingerprint) = 32),
    status           text        NOT NULL CHECK (status IN ('in_flight', 'completed')),
    lock_token       uuid,
    locked_until     timestamptz,
    response_status  integer,
    response_headers jsonb,
    response_body    bytea,
    created_at       timestamptz NOT NULL,
    expires_at       timestamptz NOT NULL,
    PRIMARY KEY (app_id, end_user, key),
    CHECK (status <> 'in_flight' OR (lock_token IS NOT NULL AND locked_until IS NOT NULL)),
    CHECK (status <> 'completed' OR (response_status IS NOT NULL AND response_headers IS NOT NULL AND response_body IS NOT NULL))
);
CREATE INDEX custom_gpt_idempotency_keys_expires_at ON custom_gpt_idempotency_keys (expires_at);

-- +goose Down
DROP TABLE custom_gpt_idempotency_keys;
