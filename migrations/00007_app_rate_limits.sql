-- +goose Up
-- Per-application overrides of the default request budgets (CUSTOM_GPT_APP_* and
-- CUSTOM_GPT_USER_*). NULL: the deployment's default applies.
ALTER TABLE custom_gpt_applications
    ADD COLUMN rate_limit_rps        integer CHECK (rate_limit_rps > 0),
    ADD COLUMN rate_limit_burst      integer CHECK (rate_limit_burst > 0),
    ADD COLUMN user_rate_limit_rps   integer CHECK (user_rate_limit_rps > 0),
    ADD COLUMN user_rate_limit_burst integer CHECK (user_rate_limit_burst > 0);

-- +goose Down
ALTER TABLE custom_gpt_applications
    DROP COLUMN user_rate_limit_burst,
    DROP COLUMN user_rate_limit_rps,
    DROP COLUMN rate_limit_burst,
    DROP COLUMN rate_limit_rps;
