-- At most one charge (issue 22): unknown outcomes are settled only by a definitive
-- answer, and a voided key is never used again.
--
-- 1. `payments.charge_key`: the idempotency key of the payment's current attempt at
--    its acquirer (NULL: the payment id, as before). When an unknown attempt is
--    settled by a void by key, that key is spent at the acquirer (it never charges
--    again), so the next attempt goes under `<payment id>.<attempt>`. Refunds name
--    their charge by this key; reconciliation matches the settlement by it.
-- 2. `inquiries.idempotency_key`: the key the unknown attempt used (NULL: object_id);
--    `inquiries.void_required`: the acquirer had no record of it, so a void by key is
--    due. It is committed before the void is sent, and once set every later step voids
--    again (idempotently) instead of asking: a void whose answer was lost can still
--    land, and an inquiry that saw a late charge first would be overtaken by it.
-- 3. `payment_history.outcome` 'orphan_reversed': reconciliation reversed a charge at
--    an acquirer that the gateway does not hold as this payment's SUCCESS there.
-- 4. `orphan_charges`: each charge reconciliation found standing with no SUCCESS
--    payment at that connector, and what became of it. The operator view and
--    `queue-stats` list them.
-- None of these columns is indexed: a claim stays a heap-only update (0005).

ALTER TABLE payments ADD COLUMN charge_key text;
ALTER TABLE inquiries ADD COLUMN idempotency_key text;
ALTER TABLE inquiries ADD COLUMN void_required boolean NOT NULL DEFAULT false;

ALTER TABLE payment_history DROP CONSTRAINT payment_history_outcome_check;
ALTER TABLE payment_history ADD CONSTRAINT payment_history_outcome_check
    CHECK (outcome IN ('succeeded', 'declined', 'transient_error', 'unknown',
                       'resolved_by_inquiry', 'orphan_reversed'));

CREATE TABLE orphan_charges (
    connector       text NOT NULL,
    idempotency_key text NOT NULL,
    acquirer_id     text NOT NULL,
    payment_id      text NOT NULL,
    merchant_id     text,
    amount          bigint NOT NULL,
    currency        text NOT NULL,
    -- the gateway's status of the payment when found (NULL: no such payment)
    gateway_status  text,
    -- found: not yet reversed; in_flight: its payment was still open (checked again);
    -- reversed; failed: the void did not confirm (tried again); owned: the payment
    -- turned out to stand on it
    status          text NOT NULL
        CHECK (status IN ('found', 'in_flight', 'reversed', 'failed', 'owned')),
    detail          text,
    found_at        timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    PRIMARY KEY (connector, idempotency_key)
);
