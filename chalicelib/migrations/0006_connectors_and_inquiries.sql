-- Real acquirers (issue 12): connectors, unknown outcomes and their inquiries.
--
-- 1. Routing. A merchant may name its connectors, primary first (`connectors`;
--    NULL: the stage's default list). A payment records the connector of its
--    current attempt (`connector`), set by the claim before any call is made, so a
--    handler that dies mid-call leaves the row pointing at the acquirer that may
--    have charged it. Refunds copy their payment's connector: a refund goes to the
--    acquirer that holds the money.
-- 2. Unknown outcomes. A call that timed out, was reset or got a 5xx may have
--    moved money. The row stays PROCESSING with `outcome_unknown_since` set and
--    `next_attempt_at` = 9999-12-31 (open, so the order and any refund reservation
--    stay held, and out of the charge path: neither the sweep nor a claim takes
--    it), and an inquiry row is opened. Only the inquiry's answer moves it on.
-- 3. Inquiries are queued work of their own kind (the same queue shape as
--    payments and refunds: status, attempts, next_attempt_at, enqueued_at,
--    processing_started_at), with their own retry schedule and an operator flag
--    (`flagged_at`) once the acquirer has not answered for too long.
-- No column a claim writes is indexed (migration 0005): `connector` and
-- `outcome_unknown_since` stay out of every index. A claim now also writes the
-- payment's `connector`, so its new row version is a few bytes longer than the old:
-- at fillfactor 50 the last claimed row of each page no longer fit beside it (191 of
-- 200 claims heap-only in tests/integration/test_queue_schema.py). Pages filled from
-- now on keep 55 % free.

ALTER TABLE merchants ADD COLUMN connectors text[]
    CHECK (connectors IS NULL OR cardinality(connectors) BETWEEN 1 AND 2);

ALTER TABLE payments SET (fillfactor = 45);
ALTER TABLE payments
    ADD COLUMN connector text,
    ADD COLUMN outcome_unknown_since timestamptz,
    ADD CONSTRAINT payments_unknown_only_while_processing
        CHECK (outcome_unknown_since IS NULL OR status = 'PROCESSING');

ALTER TABLE refunds
    ADD COLUMN connector text,
    ADD COLUMN outcome_unknown_since timestamptz,
    ADD CONSTRAINT refunds_unknown_only_while_processing
        CHECK (outcome_unknown_since IS NULL OR status = 'PROCESSING');

ALTER TABLE payment_history
    ADD COLUMN connector text,
    ADD COLUMN resolution text
        CHECK (resolution IS NULL OR resolution IN ('succeeded', 'declined', 'not_charged'));
ALTER TABLE payment_history DROP CONSTRAINT payment_history_outcome_check;
ALTER TABLE payment_history ADD CONSTRAINT payment_history_outcome_check
    CHECK (outcome IN ('succeeded', 'declined', 'transient_error', 'unknown',
                       'resolved_by_inquiry'));

CREATE TABLE inquiries (
    id                    text PRIMARY KEY,
    object_type           text NOT NULL CHECK (object_type IN ('payment', 'refund')),
    object_id             text NOT NULL,
    merchant_id           text NOT NULL,
    connector             text NOT NULL,
    -- the payment's (or refund's) attempt whose outcome is unknown
    attempt               integer NOT NULL,
    status                text NOT NULL CHECK (status IN ('PENDING', 'PROCESSING', 'RESOLVED')),
    -- inquiries made so far
    attempts              integer NOT NULL DEFAULT 0,
    resolution            text CHECK (resolution IN ('succeeded', 'declined', 'not_charged')),
    next_attempt_at       timestamptz,
    enqueued_at           timestamptz,
    processing_started_at timestamptz,
    first_unknown_at      timestamptz NOT NULL,
    flagged_at            timestamptz,
    created_at            timestamptz NOT NULL,
    updated_at            timestamptz NOT NULL,
    UNIQUE (object_type, object_id, attempt),
    CONSTRAINT inquiries_due_iff_open
        CHECK ((next_attempt_at IS NOT NULL) = (status IN ('PENDING', 'PROCESSING'))),
    CONSTRAINT inquiries_claimed_iff_processing
        CHECK ((processing_started_at IS NOT NULL) = (status = 'PROCESSING')),
    CONSTRAINT inquiries_resolved_iff_resolution
        CHECK ((resolution IS NOT NULL) = (status = 'RESOLVED'))
) WITH (fillfactor = 50);
CREATE INDEX inquiries_open_due ON inquiries (next_attempt_at) WHERE next_attempt_at IS NOT NULL;

-- Every payment attempted and every refund made before this migration went to the
-- in-process simulator, the only connector there was.
UPDATE payments SET connector = 'simulator' WHERE attempts > 0;
UPDATE refunds SET connector = 'simulator';
