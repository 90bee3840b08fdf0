-- +goose Up
-- Token signing keys and webhook signing secrets are stored sealed (AES-256-GCM
-- under CUSTOM_GPT_SECRETS_KEY, see adapters/secrets): private_key holds the
-- nonce and ciphertext; secret and previous_secret their standard base64.
-- sealed_with is the id of the key that sealed the row's values, so `keys
-- rewrap` knows what is already under the new key. NULL marks a value stored
-- in plain text before this migration: every process encrypts those at start.
ALTER TABLE custom_gpt_signing_keys ADD COLUMN sealed_with text;
ALTER TABLE custom_gpt_webhook_endpoints ADD COLUMN sealed_with text;

-- +goose Down
-- SQL cannot decrypt the sealed values and an older binary cannot read them, so
-- going back is refused while any exist, rather than leaving keys nothing reads.
-- To go back anyway, delete them first: `DELETE FROM custom_gpt_signing_keys`
-- (a new key is made; clients sign in again or refresh) and remove the webhooks
-- (set them again afterwards).
-- +goose StatementBegin
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM custom_gpt_signing_keys WHERE sealed_with IS NOT NULL)
        OR EXISTS (SELECT 1 FROM custom_gpt_webhook_endpoints WHERE sealed_with IS NOT NULL) THEN
        RAISE EXCEPTION 'encrypted signing keys or webhook secrets exist; an older binary cannot read them (see migration 00013)';
    END IF;
END
$$;
-- +goose StatementEnd
ALTER TABLE custom_gpt_webhook_endpoints DROP COLUMN sealed_with;
ALTER TABLE custom_gpt_signing_keys DROP COLUMN sealed_with;
