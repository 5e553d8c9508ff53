"""No I/O: the one outcome mapping of the HTTP connector, and the acquirer's fault draws."""

from __future__ import annotations

import json
import random
import statistics

import aiohttp
import pytest

from chalicelib.connectors.acquirer import wire
from infra.acquirer.faults import FaultConfig, Latency, decide, parse_header

CHARGE = {
    "id": "ch_1",
    "idempotency_key": "pay_1",
    "amount": 100,
    "currency": "INR",
    "status": "succeeded",
}


def _body(value: object) -> bytes:
    return json.dumps(value).encode()


NOT_PROCESSED = _body({"error": {"code": "processor_unavailable", "processed": False}})


@pytest.mark.parametrize(
    ("status", "body", "outcome"),
    [
        (200, _body(CHARGE), "succeeded"),
        (200, _body({**CHARGE, "status": "declined", "decline_code": "card_declined"}), "declined"),
        (200, b"not json", "unknown"),
        (503, NOT_PROCESSED, "transient_error"),
        (503, b"Service Unavailable", "unknown"),
        (500, _body({"error": {"code": "internal_error"}}), "unknown"),
        (502, b"", "unknown"),
        (429, b"", "transient_error"),
        (422, _body({"error": {"code": "idempotency_key_reused"}}), "unknown"),
        (400, _body({"error": {"code": "token_invalid", "message": "No token"}}), "declined"),
        (400, _body({"error": {"code": "parameter_invalid", "param": "amount"}}), "declined"),
        # Issue 22: only a documented refusal is a decline; anything that may mean "still
        # running" or "ran" is unknown, and is settled by inquiry.
        (408, b"", "unknown"),  # a load balancer's timeout: the request may have run
        (408, _body({"error": {"code": "parameter_invalid"}}), "unknown"),
        (409, _body({"error": {"code": "request_in_progress"}}), "unknown"),
        (409, b"", "unknown"),
        (425, b"", "unknown"),
        (400, b"<html>Bad Request</html>", "unknown"),  # not the acquirer's answer
        (400, _body({"error": {"code": "something_new"}}), "unknown"),
        (404, _body({"error": {"code": "not_found"}}), "unknown"),
        (402, b"", "unknown"),
        (500, b"", "unknown"),
        (501, b"", "unknown"),
        (503, _body({"error": {"code": "processor_unavailable"}}), "unknown"),  # no processed
        (503, _body({"error": {"processed": True}}), "unknown"),
        (504, b"", "unknown"),
        (200, _body({**CHARGE, "status": "in_progress"}), "unknown"),
        (200, _body({**CHARGE, "status": "voided"}), "unknown"),  # the inquiry says not charged
        (200, _body({"id": "ch_1"}), "unknown"),  # unreadable: fields missing
    ],
)  # fmt: skip
def test_answers_map_to_one_outcome(status: int, body: bytes, outcome: str) -> None:
    assert wire.outcome_of(status, body, 5, False).outcome == outcome


def test_failures_without_an_answer() -> None:
    refused = aiohttp.ClientConnectorError(
        aiohttp.client_reqrep.ConnectionKey("h", 1, False, True, None, None, None),
        ConnectionRefusedError(111, "Connection refused"),
    )
    assert wire.outcome_of_failure(refused, 1).outcome == "transient_error"
    assert wire.outcome_of_failure(TimeoutError(), 1).outcome == "unknown"
    assert wire.outcome_of_failure(aiohttp.ServerDisconnectedError(), 1).outcome == "unknown"
    assert wire.outcome_of_failure(aiohttp.ClientOSError(104, "reset"), 1).outcome == "unknown"
    assert wire.inquiry_of_failure(refused, 1).status == "unknown"


def test_inquiries() -> None:
    assert wire.inquiry_of(200, _body(CHARGE), 1).status == "succeeded"
    missing = _body({"error": {"code": "not_found"}})
    assert wire.inquiry_of(404, missing, 1).status == "not_found"
    assert wire.inquiry_of(404, b"<html>", 1).status == "unknown"  # not the acquirer's 404
    assert wire.inquiry_of(500, b"", 1).status == "unknown"
    # Still running at the acquirer: not settled; voided or reversed: nothing stands.
    assert wire.inquiry_of(200, _body({**CHARGE, "status": "in_progress"}), 1).status == "unknown"
    assert wire.inquiry_of(200, _body({**CHARGE, "status": "voided"}), 1).status == "not_charged"
    assert wire.inquiry_of(200, _body({**CHARGE, "status": "reversed"}), 1).status == "not_charged"
    for status in (408, 409, 425, 429, 502, 503):
        assert wire.inquiry_of(status, b"", 1).status == "unknown"


@pytest.mark.parametrize(
    ("status", "body", "settled"),
    [
        (200, _body({"idempotency_key": "k", "result": "voided"}), "not_charged"),
        (200, _body({"idempotency_key": "k", "result": "reversed"}), "not_charged"),
        (200, _body({"idempotency_key": "k", "result": "declined",
                     "charge": {"decline_code": "card_declined"}}), "declined"),
        (200, _body({"idempotency_key": "k", "result": "succeeded"}), "succeeded"),  # a refund
        (200, _body({"idempotency_key": "k", "result": "maybe"}), "unknown"),
        (200, b"{}", "unknown"),
        (409, _body({"error": {"code": "charge_has_refunds"}}), "unknown"),
        (500, b"", "unknown"),
        (404, b"", "unknown"),
    ],
)  # fmt: skip
def test_voids(status: int, body: bytes, settled: str) -> None:
    assert wire.void_of(status, body, 1).status == settled


def test_latency_is_lognormal_with_the_given_median_and_p99() -> None:
    rng = random.Random(7)
    latency = Latency(median_ms=300, p99_ms=2000)
    samples = sorted(latency.sample_s(rng) * 1000 for _ in range(100_000))
    assert statistics.median(samples) == pytest.approx(300, rel=0.03)
    assert samples[98_999] == pytest.approx(2000, rel=0.08)
    assert Latency(median_ms=0, p99_ms=0).sample_s(rng) == 0


def test_rates_and_headers() -> None:
    rng = random.Random(1)
    config = FaultConfig(rates={"5xx_after": 0.25, "hang": 0.25})
    modes = [decide(config, "authorize", None, rng).mode for _ in range(20_000)]
    assert modes.count("5xx_after") / 20_000 == pytest.approx(0.25, abs=0.02)
    assert modes.count("hang") / 20_000 == pytest.approx(0.25, abs=0.02)
    assert {decide(config, "inquiry", None, rng).mode for _ in range(100)} == {None}
    assert decide(config, "inquiry", "reset_after", rng).mode == "reset_after"
    assert parse_header("hang; latency=50/80") == ("hang", Latency(median_ms=50, p99_ms=80))
    with pytest.raises(ValueError):
        parse_header("explode")
    with pytest.raises(ValueError):
        FaultConfig(rates={"hang": 0.7, "5xx_before": 0.7})
