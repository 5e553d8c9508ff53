-- The simulated processor's own books. It stands for an external system, so it
-- lives in its own schema and commits on its own, apart from the gateway's
-- transactions: a charge recorded here survives a gateway crash, and a retried
-- charge with the same idempotency key replays the recorded result.

CREATE SCHEMA processor_sim;

CREATE TABLE processor_sim.charges (
    idempotency_key  text PRIMARY KEY,
    payment_id       text NOT NULL,
    amount           bigint NOT NULL,
    currency         text NOT NULL,
    outcome          text NOT NULL CHECK (outcome IN ('succeeded', 'declined')),
    failure_code     text,
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX charges_payment ON processor_sim.charges (payment_id);

CREATE TABLE processor_sim.refunds (
    idempotency_key  text PRIMARY KEY,
    refund_id        text NOT NULL,
    payment_id       text NOT NULL,
    amount           bigint NOT NULL,
    outcome          text NOT NULL CHECK (outcome IN ('succeeded', 'declined')),
    failure_code     text,
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX refunds_payment ON processor_sim.refunds (payment_id);

-- Every call the processor received, successful or not (to count retries).
CREATE TABLE processor_sim.calls (
    id               bigserial PRIMARY KEY,
    kind             text NOT NULL,
    idempotency_key  text NOT NULL,
    attempt          integer NOT NULL,
    result           text NOT NULL,
    replayed         boolean NOT NULL,
    at               timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX calls_key ON processor_sim.calls (idempotency_key);
