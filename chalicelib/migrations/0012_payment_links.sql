-- Payment links and the hosted checkout (issue 26).
--
-- 1. `payment_links`: what a customer is asked to pay. The link's client secret (the
--    checkout page's credential) is stored only as a keyed hash (`secret_hash`, as API
--    keys are: services/key_hashes.py); `signing_version` is the keyring version of the
--    key that derives the link's return-URL signing secret. A link is paid once: every
--    attempt is a payment under the link's `order_id`, so the one-active-payment-per-
--    order index admits one PENDING, PROCESSING or SUCCESS payment per link at a time.
-- 2. `payments.payment_link_id`: the link a payment was made through (NULL otherwise).
--    Never updated, so a claim stays a heap-only update (0005).
-- 3. `merchants.card_data`: 'tokens_only' makes POST /payments refuse raw card numbers.

CREATE TABLE payment_links (
    id               text PRIMARY KEY,
    merchant_id      text NOT NULL REFERENCES merchants (id),
    amount           bigint NOT NULL CHECK (amount BETWEEN 1 AND 99999999999),
    currency         text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    description      text,
    order_id         text NOT NULL,
    return_url       text,
    expires_at       timestamptz,
    secret_hash      text NOT NULL,
    signing_version  integer NOT NULL,
    deactivated_at   timestamptz,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL
);
CREATE INDEX payment_links_merchant_newest
    ON payment_links (merchant_id, created_at DESC, id DESC);

ALTER TABLE payments ADD COLUMN payment_link_id text REFERENCES payment_links (id);
CREATE INDEX payments_payment_link
    ON payments (payment_link_id, created_at DESC) WHERE payment_link_id IS NOT NULL;

ALTER TABLE merchants ADD COLUMN card_data text NOT NULL DEFAULT 'raw_allowed'
    CHECK (card_data IN ('raw_allowed', 'tokens_only'));
