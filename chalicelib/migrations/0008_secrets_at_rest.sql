-- Issue 11 (hardening), items 1-3: no recoverable card data, webhook signing secrets
-- sealed with KMS, API key lifecycle. (0007 is reserved for the dashboard's operator keys.)

-- 1. Idempotency fingerprints were an unkeyed SHA-256 of the raw body, card number and
--    CVC included: brute-forceable. They are erased. A record made before this
--    migration is replayed without comparing bodies for the rest of its 24 h
--    (services/idempotency.py LEGACY_FINGERPRINT); new ones are HMACs.
UPDATE idempotency_keys SET request_hash = 'legacy' WHERE request_hash NOT LIKE 'hmac-sha256:%';

--    The stored first answer of POST /webhook_endpoints held the signing secret: a
--    replay now answers without it (docs/api.md, Idempotency and Webhooks).
UPDATE idempotency_keys
SET response_body = convert_to(
        (convert_from(response_body, 'UTF8')::jsonb
            || '{"secret": null, "secret_withheld": true}'::jsonb)::text, 'UTF8')
WHERE response_status = 201
  AND convert_from(response_body, 'UTF8')::jsonb ->> 'object' = 'webhook_endpoint'
  AND convert_from(response_body, 'UTF8')::jsonb ->> 'secret' IS NOT NULL;

-- 2. Webhook signing secrets, envelope-encrypted (adapters/kms.py): `secret_sealed` is
--    the KMS-encrypted data key and the AES-GCM ciphertext of the secret, as JSON.
--    The encryption context binds purpose, merchant and endpoint. `secret` (plaintext)
--    stays only for rows made before this migration, until
--    `python -m workers.admin seal-webhook-secrets` seals them (docs/webhooks.md).
--    After a rotation the old sealed secret keeps signing until `previous_secret_expires_at`.
ALTER TABLE webhook_endpoints ALTER COLUMN secret DROP NOT NULL;
ALTER TABLE webhook_endpoints ADD COLUMN secret_sealed jsonb;
ALTER TABLE webhook_endpoints ADD COLUMN previous_secret_sealed jsonb;
ALTER TABLE webhook_endpoints ADD COLUMN previous_secret_expires_at timestamptz;
ALTER TABLE webhook_endpoints ADD CONSTRAINT webhook_endpoints_has_secret
    CHECK (secret IS NOT NULL OR secret_sealed IS NOT NULL);

-- 3. API keys: an id to name a key by (list-keys, revoke-key), and when it was last
--    used (written at most once a minute per key: services/merchants.py).
ALTER TABLE api_keys ADD COLUMN id text;
UPDATE api_keys SET id = 'key_' || substr(md5(random()::text || key_hash), 1, 24) WHERE id IS NULL;
ALTER TABLE api_keys ALTER COLUMN id SET NOT NULL;
ALTER TABLE api_keys ADD CONSTRAINT api_keys_id_unique UNIQUE (id);
ALTER TABLE api_keys ADD COLUMN last_used_at timestamptz;
