"""The test-mode connector: deterministic outcomes (docs/api.md's table) and a real ledger.

Its books live in the `processor_sim` schema and commit on their own, as an
external processor's would: a charge recorded there survives a gateway crash, and
a call repeating an idempotency key replays the recorded result instead of
charging again. Transient errors are not recorded, so a retry with the same key
executes afresh, as with processors that do not store 5xx answers.

`PROCESSOR_LATENCY_MS` delays each call (calls of a batch overlap, as real
network calls would); `PROCESSOR_FAILURE_RATE` injects transient errors.
"""

from __future__ import annotations

import asyncio
import random
import secrets
import time
from collections.abc import Sequence
from typing import Any, Final

from chalicelib import db, settings
from chalicelib.connectors import simulator_capture
from chalicelib.connectors.base import (
    AttemptResult,
    ChargeRequest,
    Connector,
    InquiryResult,
    OperationRequest,
    RefundRequest,
)

DECLINED: Final = "declined"
FLAKY = "flaky"
DOWN = "down"

#: scenario -> failure code for declines
_DECLINE_CODES = {
    "payment_declined": "Payment declined by the payer's bank",
    "card_declined": "The card was declined",
    "insufficient_funds": "The card has insufficient funds",
    "expired_card": "The card has expired",
}
#: charged, but the first answer is lost (as a timeout after the acquirer acted): the
#: attempt is `unknown` until an inquiry finds the charge
LOST_ANSWER = "lost-answer"
_LOST = AttemptResult("unknown", "timeout", "The acquirer's answer was lost (test mode)")
_CARD_SCENARIOS = {
    "4000000000000002": "card_declined",
    "4000000000009995": "insufficient_funds",
    "4000000000000069": "expired_card",
    "4000000000000341": FLAKY,
    "4000000000000119": DOWN,
    "4000000000000259": LOST_ANSWER,
}
_VPA_SCENARIOS = {
    "failure@upi": "payment_declined",
    "flaky@upi": FLAKY,
    "down@upi": DOWN,
    "timeout@upi": LOST_ANSWER,
}

RECORD_CHARGES = """
WITH req AS (
    SELECT * FROM unnest(%(keys)b::text[], %(payment_ids)b::text[], %(amounts)b::bigint[],
                         %(currencies)b::text[], %(outcomes)b::text[], %(codes)b::text[],
                         %(attempts)b::int[], %(captures)b::bool[])
        AS r(k, payment_id, amount, currency, outcome, code, attempt, capture)
), existing AS (
    SELECT c.idempotency_key, c.outcome, c.failure_code
    FROM processor_sim.charges c JOIN req ON req.k = c.idempotency_key
), recorded AS (
    -- authorized only (manual capture): held until captured, voided or expired
    INSERT INTO processor_sim.charges
        (idempotency_key, payment_id, amount, currency, outcome, failure_code, capture_state,
         authorized_until)
    SELECT k, payment_id, amount, currency, outcome, code,
           CASE WHEN NOT capture AND outcome = 'succeeded' THEN 'authorized' END,
           CASE WHEN NOT capture AND outcome = 'succeeded'
                THEN now() + make_interval(secs => %(authorization_ttl_s)s::float8) END
    FROM req
    WHERE outcome <> 'transient_error'
    ON CONFLICT (idempotency_key) DO NOTHING
), calls AS (
    INSERT INTO processor_sim.calls (kind, idempotency_key, attempt, result, replayed)
    SELECT 'charge', req.k, req.attempt, coalesce(e.outcome, req.outcome),
           e.idempotency_key IS NOT NULL
    FROM req LEFT JOIN existing e ON e.idempotency_key = req.k
)
SELECT idempotency_key, outcome, failure_code FROM existing
"""

RECORD_REFUNDS = """
WITH req AS (
    SELECT * FROM unnest(%(keys)b::text[], %(refund_ids)b::text[], %(payment_ids)b::text[],
                         %(amounts)b::bigint[], %(outcomes)b::text[], %(attempts)b::int[])
        AS r(k, refund_id, payment_id, amount, outcome, attempt)
), existing AS (
    SELECT f.idempotency_key, f.outcome, f.failure_code
    FROM processor_sim.refunds f JOIN req ON req.k = f.idempotency_key
), recorded AS (
    INSERT INTO processor_sim.refunds (idempotency_key, refund_id, payment_id, amount, outcome)
    SELECT k, refund_id, payment_id, amount, outcome FROM req
    WHERE outcome <> 'transient_error'
    ON CONFLICT (idempotency_key) DO NOTHING
), calls AS (
    INSERT INTO processor_sim.calls (kind, idempotency_key, attempt, result, replayed)
    SELECT 'refund', req.k, req.attempt, coalesce(e.outcome, req.outcome),
           e.idempotency_key IS NOT NULL
    FROM req LEFT JOIN existing e ON e.idempotency_key = req.k
)
SELECT idempotency_key, outcome, failure_code FROM existing
"""


def _record(statement: str, params: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Write the calls to the books (in a worker thread, off the connector loop);
    returns the earlier answers of repeated keys, by key."""
    with db.connection() as conn:
        rows = conn.execute(statement, params, prepare=False).fetchall()
    return {row["idempotency_key"]: row for row in rows}


def card_scenario(number: str) -> str:
    return _CARD_SCENARIOS.get(number, "ok")


def _scenario(request: ChargeRequest) -> str:
    if request.vpa is not None:
        return _VPA_SCENARIOS.get(request.vpa.lower(), "ok")
    if request.method_token and request.method_token.startswith("tok_sim_"):
        return request.method_token.split("_")[2]
    return "ok"


def _decide(scenario: str, attempt: int, failure_rate: float) -> AttemptResult:
    if failure_rate and random.random() < failure_rate:
        return AttemptResult("transient_error", "processor_unavailable", "Injected failure")
    if scenario == DOWN or (scenario == FLAKY and attempt <= 1):
        return AttemptResult(
            "transient_error", "processor_unavailable", "The processor is unavailable"
        )
    if scenario in _DECLINE_CODES:
        return AttemptResult(DECLINED, scenario, _DECLINE_CODES[scenario])
    return AttemptResult("succeeded")


class SimulatorConnector(Connector):
    """The in-process acquirer of test mode; its books are the `processor_sim` schema."""

    name = "simulator"
    # Every call is recorded in the books before it answers, so once a call has
    # returned (its answer lost or not), an inquiry's `not_found` is final.
    not_found_is_final = True

    def tokenize_card(self, number: str, exp_month: int, exp_year: int, cvc: str) -> str:
        # The token carries only the test scenario, never the number.
        return f"tok_sim_{card_scenario(number).replace('_', '-')}_{secrets.token_hex(8)}"

    async def authorize(self, request: ChargeRequest) -> AttemptResult:
        return (await self.authorize_many([request]))[0]

    async def refund(self, request: RefundRequest) -> AttemptResult:
        return (await self.refund_many([request]))[0]

    async def _latency(self, count: int) -> None:
        latency_s = settings.get_settings().processor_latency_ms / 1000
        if latency_s > 0 and count:
            # Each call waits its own latency; the calls of a batch overlap.
            await asyncio.gather(*(asyncio.sleep(latency_s) for _ in range(count)))

    async def authorize_many(self, requests: list[ChargeRequest]) -> list[AttemptResult]:
        if not requests:
            return []
        started = time.perf_counter()
        await self._latency(len(requests))
        rate = settings.get_settings().processor_failure_rate
        decided = [_decide(_scenario(r).replace("-", "_"), r.attempt, rate) for r in requests]
        replayed = await asyncio.to_thread(
            _record,
            RECORD_CHARGES,
            {
                "keys": [r.idempotency_key for r in requests],
                "payment_ids": [r.payment_id for r in requests],
                "amounts": [r.amount for r in requests],
                "currencies": [r.currency for r in requests],
                "outcomes": [d.outcome for d in decided],
                "codes": [d.failure_code for d in decided],
                "attempts": [r.attempt for r in requests],
                "captures": [r.capture for r in requests],
                "authorization_ttl_s": settings.get_settings().authorization_ttl_s,
            },
        )
        results = self._results(requests, decided, replayed, started)
        return [
            _LOST if _scenario(r) == LOST_ANSWER and r.attempt <= 1 and not res.replayed else res
            for r, res in zip(requests, results, strict=True)
        ]

    async def refund_many(self, requests: list[RefundRequest]) -> list[AttemptResult]:
        if not requests:
            return []
        started = time.perf_counter()
        await self._latency(len(requests))
        rate = settings.get_settings().processor_failure_rate
        decided = [_decide("ok", 1, rate) for _ in requests]
        replayed = await asyncio.to_thread(
            _record,
            RECORD_REFUNDS,
            {
                "keys": [r.idempotency_key for r in requests],
                "refund_ids": [r.refund_id for r in requests],
                "payment_ids": [r.payment_id for r in requests],
                "amounts": [r.amount for r in requests],
                "outcomes": [d.outcome for d in decided],
                "attempts": [r.attempt for r in requests],
            },
        )
        return self._results(requests, decided, replayed, started)

    # Manual capture (simulator_capture.py): one call each, recorded under its key.
    async def capture(self, request: OperationRequest) -> AttemptResult:
        await self._latency(1)
        return await asyncio.to_thread(simulator_capture.operate, request)

    async def void(self, request: OperationRequest) -> AttemptResult:
        await self._latency(1)
        return await asyncio.to_thread(simulator_capture.operate, request)

    async def retrieve_capture(self, idempotency_key: str) -> InquiryResult:
        return await asyncio.to_thread(simulator_capture.find_capture, idempotency_key)

    async def retrieve_void(self, charge_key: str) -> InquiryResult:
        return await asyncio.to_thread(simulator_capture.find_void, charge_key)

    async def retrieve_payment(self, idempotency_key: str) -> InquiryResult:
        return (await self.retrieve_payments([idempotency_key]))[0]

    async def retrieve_refund(self, idempotency_key: str) -> InquiryResult:
        return (await self.retrieve_refunds([idempotency_key]))[0]

    async def retrieve_payments(self, keys: list[str]) -> list[InquiryResult]:
        return await asyncio.to_thread(self._inquire, "processor_sim.charges", keys)

    async def retrieve_refunds(self, keys: list[str]) -> list[InquiryResult]:
        return await asyncio.to_thread(self._inquire, "processor_sim.refunds", keys)

    @staticmethod
    def _inquire(table: str, keys: list[str]) -> list[InquiryResult]:
        # The simulator records only calls that acted, so a missing key never charged.
        with db.connection() as conn:
            found = {
                row["idempotency_key"]: row
                for row in conn.execute(
                    f"SELECT idempotency_key, outcome, failure_code FROM {table} "
                    "WHERE idempotency_key = ANY(%(keys)s)",
                    {"keys": keys},
                ).fetchall()
            }
        results = []
        for key in keys:
            row = found.get(key)
            if row is None:
                results.append(InquiryResult("not_found"))
            else:
                code = row["failure_code"]
                results.append(InquiryResult(row["outcome"], code, _DECLINE_CODES.get(code or "")))
        return results

    @staticmethod
    def _results(
        requests: Sequence[ChargeRequest | RefundRequest],
        decided: list[AttemptResult],
        replayed: dict[str, dict[str, Any]],
        started: float,
    ) -> list[AttemptResult]:
        latency_ms = int((time.perf_counter() - started) * 1000)
        results = []
        for request, result in zip(requests, decided, strict=True):
            stored = replayed.get(request.idempotency_key)
            if stored is not None:
                code = stored["failure_code"]
                result = AttemptResult(
                    stored["outcome"], code, _DECLINE_CODES.get(code or ""), replayed=True
                )
            results.append(
                AttemptResult(
                    result.outcome,
                    result.failure_code,
                    result.failure_message,
                    latency_ms,
                    result.replayed,
                )
            )
        return results
