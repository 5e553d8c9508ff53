-- Authorize now, capture later (issue 25).
--
-- 1. `payments.capture_method`: 'automatic' (charged when processed, as before) or
--    'manual' (authorized only: the payment becomes AUTHORIZED, holds its order, and
--    waits for a capture or a void). `capture_before`: when the authorization
--    expires (set when it is authorized); `amount_captured`: what a capture took
--    (NULL for an automatic payment, whose whole amount is captured when it
--    succeeds); `cancellation_reason`: why a payment was cancelled.
-- 2. Refunds reserve within the captured amount, not the authorized one.
-- 3. `payment_operations`: captures and voids of an authorization, queued work of
--    their own kind (the queue shape of refunds). At most one operation per payment
--    that is open or succeeded (`payment_operations_one_per_payment`): a capture and
--    a void (the merchant's, or the expiry sweep's) can never both be sent, and a
--    payment is captured once. A failed operation (declined, or not sent) leaves the
--    payment AUTHORIZED.
-- 4. `processor_sim.charges` remember an authorization's capture state, and
--    `processor_sim.operations` the simulator's captures and voids by key.
-- The new payments columns are not indexed: a claim stays a heap-only update (0005).

ALTER TABLE payments
    ADD COLUMN capture_method text NOT NULL DEFAULT 'automatic'
        CHECK (capture_method IN ('automatic', 'manual')),
    ADD COLUMN amount_captured bigint,
    ADD COLUMN capture_before timestamptz,
    ADD COLUMN cancellation_reason text
        CHECK (cancellation_reason IN ('requested_by_customer', 'expired'));

ALTER TABLE payments DROP CONSTRAINT payments_status_check;
ALTER TABLE payments ADD CONSTRAINT payments_status_check
    CHECK (status IN ('PENDING', 'PROCESSING', 'AUTHORIZED', 'SUCCESS', 'FAILED', 'CANCELLED'));
ALTER TABLE payments ADD CONSTRAINT payments_captured_within_amount
    CHECK (amount_captured IS NULL OR amount_captured BETWEEN 1 AND amount);
ALTER TABLE payments ADD CONSTRAINT payments_refunds_within_captured
    CHECK (amount_refund_reserved <= coalesce(amount_captured, amount));
ALTER TABLE payments ADD CONSTRAINT payments_authorized_has_deadline
    CHECK (status <> 'AUTHORIZED' OR capture_before IS NOT NULL);

ALTER TABLE payment_history DROP CONSTRAINT payment_history_outcome_check;
ALTER TABLE payment_history ADD CONSTRAINT payment_history_outcome_check
    CHECK (outcome IN ('succeeded', 'declined', 'transient_error', 'unknown',
                       'resolved_by_inquiry', 'orphan_reversed', 'captured', 'voided',
                       'expired'));

CREATE TABLE payment_operations (
    id                    text PRIMARY KEY,
    merchant_id           text NOT NULL,
    payment_id            text NOT NULL REFERENCES payments (id),
    type                  text NOT NULL CHECK (type IN ('capture', 'void')),
    amount                bigint NOT NULL CHECK (amount >= 1),
    currency              text NOT NULL,
    -- voids: requested_by_customer | expired
    reason                text,
    status                text NOT NULL
        CHECK (status IN ('PENDING', 'PROCESSING', 'SUCCESS', 'FAILED')),
    attempts              integer NOT NULL DEFAULT 0,
    next_attempt_at       timestamptz,
    enqueued_at           timestamptz,
    processing_started_at timestamptz,
    outcome_unknown_since timestamptz,
    failure_code          text,
    -- the payment's connector and the key its authorization was made under
    connector             text NOT NULL,
    charge_key            text NOT NULL,
    created_at            timestamptz NOT NULL,
    updated_at            timestamptz NOT NULL,
    CONSTRAINT payment_operations_due_iff_open
        CHECK ((next_attempt_at IS NOT NULL) = (status IN ('PENDING', 'PROCESSING'))),
    CONSTRAINT payment_operations_claimed_iff_processing
        CHECK ((processing_started_at IS NOT NULL) = (status = 'PROCESSING')),
    CONSTRAINT payment_operations_unknown_only_while_processing
        CHECK (outcome_unknown_since IS NULL OR status = 'PROCESSING')
) WITH (fillfactor = 50);
CREATE UNIQUE INDEX payment_operations_one_per_payment
    ON payment_operations (payment_id) WHERE status <> 'FAILED';
CREATE INDEX payment_operations_open_due
    ON payment_operations (next_attempt_at) WHERE next_attempt_at IS NOT NULL;
CREATE INDEX payment_operations_payment ON payment_operations (payment_id, created_at);

ALTER TABLE processor_sim.charges
    ADD COLUMN capture_state text CHECK (capture_state IN ('authorized', 'captured', 'voided')),
    ADD COLUMN amount_captured bigint,
    ADD COLUMN authorized_until timestamptz;

CREATE TABLE processor_sim.operations (
    idempotency_key  text PRIMARY KEY,
    type             text NOT NULL CHECK (type IN ('capture', 'void')),
    charge_key       text NOT NULL,
    amount           bigint NOT NULL,
    outcome          text NOT NULL CHECK (outcome IN ('succeeded', 'declined')),
    failure_code     text,
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX operations_charge ON processor_sim.operations (charge_key);
