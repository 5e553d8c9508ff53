"""The finish statement of each kind of queued work: a whole batch's results at once.

Every finish compares the claim itself (its time and attempt): a handler presumed
dead, whose rows were claimed again, cannot write over the newer claim's result.
`processing_started_at` is set only while PROCESSING (a CHECK), so no status test
is needed; one would also make the planner expect a single PROCESSING row and loop
over the batch once per row.

An attempt whose outcome is unknown leaves its row PROCESSING with
`outcome_unknown_since` set and `next_attempt_at` far in the future, and opens an
inquiry in the same statement (migration 0006). The inquiry finishes settle such
rows: `succeeded`/`declined` make them final, `not_charged` (a confirmed void) returns
a payment to the retry policy under a new charge key, and fails a refund.
"""

from __future__ import annotations

from chalicelib.repository.payments import PAYMENT_COLUMNS
from chalicelib.repository.refunds import REFUND_COLUMNS


def _prefixed(alias: str, columns: str) -> str:
    return ", ".join(f"{alias}.{c.strip()}" for c in columns.split(","))


#: `next_attempt_at` of a row held for its inquiry: open, but never due. (Not
#: 'infinity', which psycopg's fast timestamp loader cannot turn into a datetime.)
HELD = "'9999-12-31 00:00:00+00'::timestamptz"

_UNKNOWN_STAYS_OPEN = """
        next_attempt_at = CASE WHEN r.status = 'PROCESSING' THEN {HELD}
                               ELSE r.next_attempt_at END,
        outcome_unknown_since = CASE WHEN r.status = 'PROCESSING' THEN %(now)s END,
        processing_started_at = CASE WHEN r.status = 'PROCESSING'
                                     THEN {alias}.processing_started_at END,
        enqueued_at = NULL"""


# An authorization's deadline counts from the claim of the attempt that made it, which
# is before the acquirer authorized: the gateway's deadline is never the later one.
_EXPIRES = "{at} + make_interval(secs => %(authorization_ttl_s)s::float8)"


def _open_inquiries(object_type: str, key: str) -> str:
    """Open an inquiry for each row left unknown, naming the key its attempt used."""
    return f"""
, inquiries_opened AS (
    INSERT INTO inquiries (id, object_type, object_id, merchant_id, connector, attempt,
                           status, next_attempt_at, first_unknown_at, created_at, updated_at,
                           idempotency_key)
    SELECT inquiry_id, '{object_type}', id, merchant_id, connector, attempts, 'PENDING',
           %(inquiry_due)s, %(now)s, %(now)s, %(now)s, {key}
    FROM finished WHERE status = 'PROCESSING'
    ON CONFLICT (object_type, object_id, attempt) DO NOTHING
)"""


# Refund totals move with the refunds that became final; summed per payment, since
# one batch may hold several refunds of the same payment.
_REFUND_TOTALS = """
, per_payment AS (
    SELECT payment_id,
           coalesce(sum(amount) FILTER (WHERE status = 'SUCCESS'), 0) AS succeeded,
           coalesce(sum(amount) FILTER (WHERE status = 'FAILED'), 0) AS failed
    FROM finished
    GROUP BY payment_id
), totals AS (
    UPDATE payments p
    SET amount_refunded = p.amount_refunded + s.succeeded,
        amount_refund_reserved = p.amount_refund_reserved - s.failed,
        updated_at = %(now)s
    FROM per_payment s
    WHERE p.id = s.payment_id AND (s.succeeded > 0 OR s.failed > 0)
)"""

PAYMENTS = f"""
WITH result AS (
    SELECT * FROM unnest(%(ids)b::text[], %(claimed_ats)b::timestamptz[],
                         %(statuses)b::text[], %(attempts)b::int[],
                         %(outcomes)b::text[], %(codes)b::text[], %(messages)b::text[],
                         %(next_attempt_ats)b::timestamptz[], %(latencies)b::int[],
                         %(attempt_codes)b::text[], %(inquiry_ids)b::text[])
        AS r(id, claimed_at, status, attempt, outcome, failure_code, failure_message,
             next_attempt_at, latency_ms, attempt_failure_code, inquiry_id)
), finished AS (
    UPDATE payments p
    SET status = r.status,
        failure_code = r.failure_code,
        failure_message = r.failure_message,
        released_at = CASE WHEN r.status = 'FAILED' THEN %(now)s END,
        capture_before = CASE WHEN r.status = 'AUTHORIZED' THEN {_EXPIRES.format(at="r.claimed_at")}
                         END,
        updated_at = %(now)s,{_UNKNOWN_STAYS_OPEN.format(alias="p", HELD=HELD)}
    FROM result r
    WHERE p.id = r.id AND p.processing_started_at = r.claimed_at AND p.attempts = r.attempt
    RETURNING {_prefixed("p", PAYMENT_COLUMNS)},
              r.outcome, r.latency_ms, r.attempt_failure_code, r.inquiry_id,
              coalesce(p.charge_key, p.id) AS attempt_key
), history AS (
    INSERT INTO payment_history (payment_id, at, from_status, to_status, attempt, outcome,
                                 failure_code, latency_ms, connector)
    SELECT id, %(now)s, 'PROCESSING', status, attempts, outcome, attempt_failure_code,
           latency_ms, connector
    FROM finished
){_open_inquiries("payment", "attempt_key")}
SELECT * FROM finished
"""

REFUNDS = f"""
WITH result AS (
    SELECT * FROM unnest(%(ids)b::text[], %(claimed_ats)b::timestamptz[],
                         %(statuses)b::text[], %(attempts)b::int[],
                         %(codes)b::text[], %(next_attempt_ats)b::timestamptz[],
                         %(inquiry_ids)b::text[])
        AS r(id, claimed_at, status, attempt, failure_code, next_attempt_at, inquiry_id)
), finished AS (
    UPDATE refunds f
    SET status = r.status,
        failure_code = r.failure_code,
        updated_at = CASE WHEN r.status IN ('PENDING', 'PROCESSING') THEN f.updated_at
                          ELSE %(now)s END,{_UNKNOWN_STAYS_OPEN.format(alias="f", HELD=HELD)}
    FROM result r
    WHERE f.id = r.id AND f.processing_started_at = r.claimed_at AND f.attempts = r.attempt
    RETURNING {_prefixed("f", REFUND_COLUMNS)}, r.inquiry_id
){_REFUND_TOTALS}{_open_inquiries("refund", "id")}
SELECT * FROM finished
"""

# An inquiry's own row: RESOLVED with the acquirer's answer, or PENDING again with
# backoff (and flagged for the operator once it has gone unanswered too long).
_SETTLED_INQUIRIES = """
WITH result AS (
    SELECT * FROM unnest(%(ids)b::text[], %(claimed_ats)b::timestamptz[], %(attempts)b::int[],
                         %(statuses)b::text[], %(resolutions)b::text[],
                         %(next_attempt_ats)b::timestamptz[], %(flags)b::bool[],
                         %(object_statuses)b::text[],
                         %(object_next_attempt_ats)b::timestamptz[],
                         %(codes)b::text[], %(messages)b::text[],
                         %(void_requireds)b::bool[])
        AS r(id, claimed_at, attempt, status, resolution, next_attempt_at, flag,
             object_status, object_next_attempt_at, failure_code, failure_message,
             void_required)
), settled AS (
    UPDATE inquiries i
    SET status = r.status,
        resolution = r.resolution,
        next_attempt_at = r.next_attempt_at,
        flagged_at = CASE WHEN r.flag THEN coalesce(i.flagged_at, %(now)s) ELSE i.flagged_at END,
        -- once due, a void stays due: a later step never asks instead (the lost void
        -- could still land after the answer it would get)
        void_required = i.void_required OR r.void_required,
        enqueued_at = NULL,
        processing_started_at = NULL,
        updated_at = %(now)s
    FROM result r
    WHERE i.id = r.id AND i.processing_started_at = r.claimed_at AND i.attempts = r.attempt
    RETURNING i.object_id, i.attempt AS object_attempt, r.resolution AS inquiry_resolution,
              r.object_status, r.object_next_attempt_at,
              r.failure_code AS inquiry_code, r.failure_message AS inquiry_message
)"""

PAYMENT_INQUIRIES = f"""{_SETTLED_INQUIRIES}, finished AS (
    UPDATE payments p
    -- A manual-capture payment found authorized is AUTHORIZED, not SUCCESS.
    SET status = CASE WHEN s.object_status = 'SUCCESS' AND p.capture_method = 'manual'
                      THEN 'AUTHORIZED' ELSE s.object_status END,
        failure_code = CASE WHEN s.object_status = 'FAILED' THEN s.inquiry_code END,
        failure_message = CASE WHEN s.object_status = 'FAILED' THEN s.inquiry_message END,
        next_attempt_at = s.object_next_attempt_at,
        released_at = CASE WHEN s.object_status = 'FAILED' THEN %(now)s END,
        capture_before = CASE WHEN s.object_status = 'SUCCESS' AND p.capture_method = 'manual'
                              THEN {_EXPIRES.format(at="p.processing_started_at")} END,
        -- Not charged (voided at the acquirer): the key is spent there, so the next
        -- attempt, at whichever connector, goes under a key of its own.
        charge_key = CASE WHEN s.inquiry_resolution = 'not_charged'
                          THEN p.id || '.' || (p.attempts + 1) ELSE p.charge_key END,
        outcome_unknown_since = NULL,
        enqueued_at = NULL,
        processing_started_at = NULL,
        updated_at = %(now)s
    FROM settled s
    WHERE p.id = s.object_id AND s.object_status IS NOT NULL
      AND p.outcome_unknown_since IS NOT NULL AND p.attempts = s.object_attempt
    RETURNING {_prefixed("p", PAYMENT_COLUMNS)}, s.inquiry_resolution
), history AS (
    INSERT INTO payment_history (payment_id, at, from_status, to_status, attempt, outcome,
                                 failure_code, connector, resolution)
    SELECT id, %(now)s, 'PROCESSING', status, attempts, 'resolved_by_inquiry', failure_code,
           connector, inquiry_resolution
    FROM finished
)
SELECT * FROM finished
"""

REFUND_INQUIRIES = f"""{_SETTLED_INQUIRIES}, finished AS (
    UPDATE refunds f
    SET status = s.object_status,
        failure_code = CASE WHEN s.object_status = 'FAILED' THEN s.inquiry_code END,
        next_attempt_at = s.object_next_attempt_at,
        outcome_unknown_since = NULL,
        enqueued_at = NULL,
        processing_started_at = NULL,
        updated_at = CASE WHEN s.object_status = 'PENDING' THEN f.updated_at ELSE %(now)s END
    FROM settled s
    WHERE f.id = s.object_id AND s.object_status IS NOT NULL
      AND f.outcome_unknown_since IS NOT NULL AND f.attempts = s.object_attempt
    RETURNING {_prefixed("f", REFUND_COLUMNS)}, s.inquiry_resolution
){_REFUND_TOTALS}
SELECT * FROM finished
"""

# A capture or void: its own row, then (once it succeeded) its payment, AUTHORIZED →
# SUCCESS with what was captured, or → CANCELLED with the void's reason, and a history
# row. An unknown outcome keeps the operation PROCESSING with its claim time, so that it
# is claimed again once due (`next_attempt_at`, after the inquiry delay) and settled
# there by inquiry. The final SELECT gives every finished operation, with its payment's
# columns where the payment moved (the events).
OPERATIONS = f"""
WITH result AS (
    SELECT * FROM unnest(%(ids)b::text[], %(claimed_ats)b::timestamptz[],
                         %(statuses)b::text[], %(attempts)b::int[], %(codes)b::text[],
                         %(next_attempt_ats)b::timestamptz[], %(latencies)b::int[])
        AS r(id, claimed_at, status, attempt, failure_code, next_attempt_at, latency_ms)
), done AS (
    UPDATE payment_operations o
    SET status = r.status,
        failure_code = r.failure_code,
        next_attempt_at = CASE WHEN r.status = 'PROCESSING' THEN %(inquiry_due)s
                               ELSE r.next_attempt_at END,
        outcome_unknown_since = CASE WHEN r.status = 'PROCESSING'
                                     THEN coalesce(o.outcome_unknown_since, %(now)s) END,
        processing_started_at = CASE WHEN r.status = 'PROCESSING'
                                     THEN o.processing_started_at END,
        enqueued_at = NULL,
        updated_at = %(now)s
    FROM result r
    WHERE o.id = r.id AND o.processing_started_at = r.claimed_at AND o.attempts = r.attempt
    RETURNING o.id, o.payment_id, o.type, o.amount, o.reason, o.status, o.connector,
              r.latency_ms
), moved AS (
    UPDATE payments p
    SET status = CASE WHEN d.type = 'capture' THEN 'SUCCESS' ELSE 'CANCELLED' END,
        amount_captured = CASE WHEN d.type = 'capture' THEN d.amount END,
        released_at = CASE WHEN d.type = 'void' THEN %(now)s END,
        cancellation_reason = CASE WHEN d.type = 'void' THEN d.reason END,
        updated_at = %(now)s
    FROM done d
    WHERE p.id = d.payment_id AND d.status = 'SUCCESS' AND p.status = 'AUTHORIZED'
    RETURNING {_prefixed("p", PAYMENT_COLUMNS)}, d.id AS operation_id, d.type AS operation_type,
              d.latency_ms
), history AS (
    INSERT INTO payment_history (payment_id, at, from_status, to_status, attempt, outcome,
                                 latency_ms, connector)
    SELECT id, %(now)s, 'AUTHORIZED', status, attempts,
           CASE WHEN operation_type = 'capture' THEN 'captured'
                WHEN cancellation_reason = 'expired' THEN 'expired' ELSE 'voided' END,
           latency_ms, connector
    FROM moved
)
SELECT d.status AS operation_status, m.*
FROM done d LEFT JOIN moved m ON m.operation_id = d.id
"""
