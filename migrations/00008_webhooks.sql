-- +goose Up
-- One webhook endpoint per application. The secret is kept as is (signing
-- needs it); previous_secret signs alongside it until previous_expires_at
-- after a rotation. A disabled endpoint (410 Gone) receives nothing until it
-- is registered again.
CREATE TABLE custom_gpt_webhook_endpoints (
    id                  text PRIMARY KEY,
    app_id              text        NOT NULL UNIQUE REFERENCES custom_gpt_applications (id) ON DELETE CASCADE,
    url                 text        NOT NULL,
    secret              text        NOT NULL,
    previous_secret     text,
    previous_expires_at timestamptz,
    status              text        NOT NULL CHECK (status IN ('active', 'disabled')),
    disabled_reason     text        NOT NULL DEFAULT '',
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL,
    CHECK ((previous_secret IS NULL) = (previous_expires_at IS NULL))
);

-- One row per event and endpoint: the unique key makes scheduling idempotent
-- under at-least-once delivery of the event stream. A pending delivery is due
-- at next_attempt_at; a dispatcher claims it until locked_until with
-- claim_token, and only that claim may record the attempt.
CREATE TABLE custom_gpt_webhook_deliveries (
    id                 text PRIMARY KEY,
    endpoint_id        text        NOT NULL REFERENCES custom_gpt_webhook_endpoints (id) ON DELETE CASCADE,
    app_id             text        NOT NULL,
    event_id           text        NOT NULL,
    event_type         text        NOT NULL,
    body               bytea       NOT NULL,
    status             text        NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    attempts           integer     NOT NULL DEFAULT 0,
    scheduled_attempts integer     NOT NULL DEFAULT 0,
    next_attempt_at    timestamptz,
    failure            text        NOT NULL DEFAULT '',
    locked_until       timestamptz,
    claim_token        text,
    created_at         timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL,
    UNIQUE (endpoint_id, event_id),
    CHECK ((status = 'pending') = (next_attempt_at IS NOT NULL))
);
CREATE INDEX custom_gpt_webhook_deliveries_due ON custom_gpt_webhook_deliveries (next_attempt_at)
    WHERE status = 'pending';
CREATE INDEX custom_gpt_webhook_deliveries_app ON custom_gpt_webhook_deliveries (app_id, created_at DESC);

-- Every attempt, scheduled or manual, with what came back.
CREATE TABLE custom_gpt_webhook_attempts (
    delivery_id  text        NOT NULL REFERENCES custom_gpt_webhook_deliveries (id) ON DELETE CASCADE,
    attempt      integer     NOT NULL,
    manual       boolean     NOT NULL DEFAULT false,
    attempted_at timestamptz NOT NULL,
    duration_us  bigint      NOT NULL,
    http_status  integer,
    error        text        NOT NULL DEFAULT '',
    PRIMARY KEY (delivery_id, attempt)
);

-- +goose Down
DROP TABLE custom_gpt_webhook_attempts;
DROP TABLE custom_gpt_webhook_deliveries;
DROP TABLE custom_gpt_webhook_endpoints;
