"""The simulator's captures and voids of authorizations (manual capture, test mode).

An authorization made with `capture=False` is recorded in `processor_sim.charges` with
`capture_state = 'authorized'` until `authorized_until`. A capture takes at most its
amount, once; a void releases it; neither is possible after the other, nor a capture
after expiry. Each operation is recorded under its key (`processor_sim.operations`),
so a repeated call replays its answer.
"""

from __future__ import annotations

from typing import Any

from chalicelib import db
from chalicelib.connectors.base import AttemptResult, InquiryResult, OperationRequest

# One statement per call. `state` is the authorization as the call found it (to name
# a refusal); the UPDATE's own WHERE is the rule, so two captures never both succeed.
CAPTURE = """
WITH existing AS (
    SELECT outcome, failure_code FROM processor_sim.operations WHERE idempotency_key = %(key)s
), state AS (
    SELECT capture_state, amount, authorized_until FROM processor_sim.charges
    WHERE idempotency_key = %(charge_key)s
), captured AS (
    UPDATE processor_sim.charges
    SET capture_state = 'captured', amount_captured = %(amount)s
    WHERE idempotency_key = %(charge_key)s AND capture_state = 'authorized'
      AND %(amount)s <= amount AND authorized_until > now()
      AND NOT EXISTS (SELECT 1 FROM existing)
    RETURNING 1
), decided AS (
    SELECT CASE WHEN EXISTS (SELECT 1 FROM captured) THEN NULL
                WHEN s.capture_state IS NULL THEN 'authorization_not_found'
                WHEN s.capture_state = 'voided' THEN 'authorization_voided'
                WHEN s.capture_state = 'captured' THEN 'already_captured'
                WHEN %(amount)s > s.amount THEN 'amount_exceeds_authorization'
                WHEN s.authorized_until <= now() THEN 'authorization_expired'
                ELSE 'capture_refused' END AS code
    FROM (SELECT 1) one LEFT JOIN state s ON true
), recorded AS (
    INSERT INTO processor_sim.operations
        (idempotency_key, type, charge_key, amount, outcome, failure_code)
    SELECT %(key)s, 'capture', %(charge_key)s, %(amount)s,
           CASE WHEN code IS NULL THEN 'succeeded' ELSE 'declined' END, code
    FROM decided WHERE NOT EXISTS (SELECT 1 FROM existing)
    ON CONFLICT (idempotency_key) DO NOTHING
    RETURNING outcome, failure_code
)
SELECT outcome, failure_code, true AS replayed FROM existing
UNION ALL SELECT outcome, failure_code, false FROM recorded
"""

VOID = """
WITH existing AS (
    SELECT outcome, failure_code FROM processor_sim.operations WHERE idempotency_key = %(key)s
), state AS (
    SELECT capture_state FROM processor_sim.charges WHERE idempotency_key = %(charge_key)s
), voided AS (
    UPDATE processor_sim.charges SET capture_state = 'voided'
    WHERE idempotency_key = %(charge_key)s AND capture_state = 'authorized'
      AND NOT EXISTS (SELECT 1 FROM existing)
    RETURNING 1
), decided AS (
    SELECT CASE WHEN EXISTS (SELECT 1 FROM voided) OR s.capture_state = 'voided' THEN NULL
                WHEN s.capture_state = 'captured' THEN 'already_captured'
                ELSE 'authorization_not_found' END AS code
    FROM (SELECT 1) one LEFT JOIN state s ON true
), recorded AS (
    INSERT INTO processor_sim.operations
        (idempotency_key, type, charge_key, amount, outcome, failure_code)
    SELECT %(key)s, 'void', %(charge_key)s, %(amount)s,
           CASE WHEN code IS NULL THEN 'succeeded' ELSE 'declined' END, code
    FROM decided WHERE NOT EXISTS (SELECT 1 FROM existing)
    ON CONFLICT (idempotency_key) DO NOTHING
    RETURNING outcome, failure_code
)
SELECT outcome, failure_code, true AS replayed FROM existing
UNION ALL SELECT outcome, failure_code, false FROM recorded
"""

FIND_CAPTURE = """
SELECT outcome, failure_code FROM processor_sim.operations
WHERE idempotency_key = %(key)s AND type = 'capture'
"""

FIND_AUTHORIZATION = """
SELECT capture_state FROM processor_sim.charges WHERE idempotency_key = %(key)s
"""


def _one(statement: str, params: dict[str, Any]) -> dict[str, Any] | None:
    with db.connection() as conn:
        return conn.execute(statement, params).fetchone()


def operate(request: OperationRequest) -> AttemptResult:
    """Capture or void (in a worker thread): the recorded answer under the request's key."""
    statement = CAPTURE if request.type == "capture" else VOID
    row = _one(
        statement,
        {
            "key": request.idempotency_key,
            "charge_key": request.charge_key,
            "amount": request.amount,
        },
    )
    if row is None:  # a concurrent call under the same key recorded first: its answer
        row = _one(
            "SELECT outcome, failure_code, true AS replayed FROM processor_sim.operations"
            " WHERE idempotency_key = %(key)s",
            {"key": request.idempotency_key},
        )
    if row is None:  # pragma: no cover (one of the two statements recorded it)
        return AttemptResult("unknown", "acquirer_unknown", "no record after the call")
    message = None if row["failure_code"] is None else "Refused by the acquirer (test mode)"
    return AttemptResult(row["outcome"], row["failure_code"], message, replayed=row["replayed"])


def find_capture(key: str) -> InquiryResult:
    row = _one(FIND_CAPTURE, {"key": key})
    if row is None:
        return InquiryResult("not_found")
    return InquiryResult(row["outcome"], row["failure_code"])


def find_void(charge_key: str) -> InquiryResult:
    row = _one(FIND_AUTHORIZATION, {"key": charge_key})
    state = row["capture_state"] if row else None
    if state == "voided":
        return InquiryResult("succeeded")
    if state == "captured":
        return InquiryResult("declined", "already_captured")
    return InquiryResult("not_found")
