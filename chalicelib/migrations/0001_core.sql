-- Core schema: merchants and keys, payments and their history, idempotency
-- records, refunds, the event outbox and webhook deliveries.
-- Amounts are bigint minor units; every time is timestamptz (UTC).

CREATE TABLE merchants (
    id          text PRIMARY KEY,
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- API keys are stored only as a SHA-256 hash; `key_prefix` helps an operator
-- recognise a key without being able to use it.
CREATE TABLE api_keys (
    key_hash     text PRIMARY KEY,
    merchant_id  text NOT NULL REFERENCES merchants (id),
    key_prefix   text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz
);
CREATE INDEX api_keys_merchant ON api_keys (merchant_id);

CREATE TABLE payments (
    id               text PRIMARY KEY,
    merchant_id      text NOT NULL REFERENCES merchants (id),
    order_id         text NOT NULL,
    amount           bigint NOT NULL CHECK (amount BETWEEN 1 AND 99999999999),
    currency         text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    method           text NOT NULL CHECK (method IN ('upi', 'card', 'netbanking', 'wallet')),
    status           text NOT NULL CHECK (status IN ('PENDING', 'PROCESSING', 'SUCCESS', 'FAILED', 'CANCELLED')),
    vpa              text,
    card             jsonb,          -- only brand, last4, exp_month, exp_year
    bank             text,
    wallet           text,
    method_token     text,           -- the processor's token for the method details
    description      text,
    metadata         jsonb NOT NULL DEFAULT '{}',
    amount_refunded  bigint NOT NULL DEFAULT 0,
    -- Sum of refunds PENDING or SUCCESS: the database refuses over-refunding.
    amount_refund_reserved bigint NOT NULL DEFAULT 0,
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz,    -- when a PENDING payment is due for its next attempt
    enqueued_at      timestamptz,    -- last time its id was added to the stream
    processing_started_at timestamptz,
    failure_code     text,
    failure_message  text,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    CONSTRAINT payments_refunds_within_amount
        CHECK (amount_refunded >= 0 AND amount_refund_reserved >= amount_refunded
               AND amount_refund_reserved <= amount)
);
-- At most one PENDING, PROCESSING or SUCCESS payment per order, enforced here.
CREATE UNIQUE INDEX payments_one_active_per_order
    ON payments (merchant_id, order_id)
    WHERE status IN ('PENDING', 'PROCESSING', 'SUCCESS');
CREATE INDEX payments_merchant_newest ON payments (merchant_id, created_at DESC, id DESC);
CREATE INDEX payments_merchant_order ON payments (merchant_id, order_id, created_at DESC);
-- The sweep: due PENDING payments, and PROCESSING ones whose handler died.
CREATE INDEX payments_due ON payments (next_attempt_at) WHERE status = 'PENDING';
CREATE INDEX payments_processing ON payments (processing_started_at) WHERE status = 'PROCESSING';

CREATE TABLE payment_history (
    id           bigserial PRIMARY KEY,
    payment_id   text NOT NULL REFERENCES payments (id),
    at           timestamptz NOT NULL,
    from_status  text,
    to_status    text NOT NULL,
    attempt      integer,
    outcome      text CHECK (outcome IN ('succeeded', 'declined', 'transient_error')),
    failure_code text,
    latency_ms   integer
);
CREATE INDEX payment_history_payment ON payment_history (payment_id, id);

-- Idempotency records: written in the same transaction as the object created.
CREATE TABLE idempotency_keys (
    merchant_id       text NOT NULL REFERENCES merchants (id),
    key               text NOT NULL,
    request_hash      text NOT NULL,
    response_status   integer NOT NULL,
    response_headers  jsonb NOT NULL DEFAULT '{}',
    response_body     bytea NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (merchant_id, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

CREATE TABLE refunds (
    id               text PRIMARY KEY,
    merchant_id      text NOT NULL REFERENCES merchants (id),
    payment_id       text NOT NULL REFERENCES payments (id),
    amount           bigint NOT NULL CHECK (amount >= 1),
    currency         text NOT NULL,
    status           text NOT NULL CHECK (status IN ('PENDING', 'PROCESSING', 'SUCCESS', 'FAILED')),
    reason           text,
    failure_code     text,
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz,
    enqueued_at      timestamptz,
    processing_started_at timestamptz,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL
);
CREATE INDEX refunds_payment ON refunds (payment_id, created_at DESC, id DESC);
CREATE INDEX refunds_merchant_newest ON refunds (merchant_id, created_at DESC, id DESC);
CREATE INDEX refunds_due ON refunds (next_attempt_at) WHERE status = 'PENDING';
CREATE INDEX refunds_processing ON refunds (processing_started_at) WHERE status = 'PROCESSING';

-- The transactional outbox: an event is written with the change it describes.
CREATE TABLE events (
    id           text PRIMARY KEY,
    merchant_id  text NOT NULL REFERENCES merchants (id),
    type         text NOT NULL,
    data         jsonb NOT NULL,
    created_at   timestamptz NOT NULL
);
CREATE INDEX events_merchant_newest ON events (merchant_id, created_at DESC, id DESC);

CREATE TABLE webhook_endpoints (
    id           text PRIMARY KEY,
    merchant_id  text NOT NULL REFERENCES merchants (id),
    url          text NOT NULL,
    events       text[] NOT NULL,
    secret       text NOT NULL,
    status       text NOT NULL DEFAULT 'enabled',
    created_at   timestamptz NOT NULL,
    deleted_at   timestamptz
);
CREATE INDEX webhook_endpoints_merchant ON webhook_endpoints (merchant_id) WHERE deleted_at IS NULL;

-- One row per (event, endpoint); `status` is pending until it succeeds or fails for good.
CREATE TABLE webhook_deliveries (
    id               bigserial PRIMARY KEY,
    event_id         text NOT NULL REFERENCES events (id),
    endpoint_id      text NOT NULL REFERENCES webhook_endpoints (id),
    status           text NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz,
    locked_until     timestamptz,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    UNIQUE (event_id, endpoint_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';

CREATE TABLE webhook_delivery_attempts (
    id               bigserial PRIMARY KEY,
    delivery_id      bigint NOT NULL REFERENCES webhook_deliveries (id),
    attempt          integer NOT NULL,
    status           text NOT NULL CHECK (status IN ('succeeded', 'failed')),
    response_status  integer,
    response_body    text,
    error            text,
    duration_ms      integer,
    at               timestamptz NOT NULL
);
CREATE INDEX webhook_delivery_attempts_delivery ON webhook_delivery_attempts (delivery_id, id);
