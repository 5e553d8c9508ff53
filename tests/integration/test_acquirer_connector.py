"""The HTTP connector against a real acquirer process, each fault injected by the acquirer.

No client is mocked: faults are set through the acquirer's admin endpoint, and every
outcome is then settled by an inquiry with the same key, checked against the books.
"""

from __future__ import annotations

import threading
import time
import uuid

import pytest

from chalicelib.connectors import runner
from chalicelib.connectors.acquirer import AcquirerConnector
from chalicelib.connectors.base import ChargeRequest, RefundRequest
from tests.integration.acquirer_process import AcquirerProcess
from tests.support import wait_until

DEADLINE_S = 1.0
MARGIN_S = 0.5


@pytest.fixture
def connector(acquirer: AcquirerProcess) -> AcquirerConnector:
    acquirer.clear_faults()
    return AcquirerConnector(acquirer.url, deadline_s=DEADLINE_S)


def _charge(amount: int = 2500, **extra: str) -> ChargeRequest:
    payment_id = f"pay_{uuid.uuid4().hex}"
    return ChargeRequest(
        idempotency_key=payment_id,
        payment_id=payment_id,
        amount=amount,
        currency="INR",
        method=extra.pop("method", "upi"),
        attempt=1,
        **extra,  # type: ignore[arg-type]
    )


def _refund(payment_id: str, amount: int) -> RefundRequest:
    refund_id = f"rf_{uuid.uuid4().hex}"
    return RefundRequest(refund_id, refund_id, payment_id, amount, "INR", 1)


def test_answers_map_to_outcomes(connector: AcquirerConnector, acquirer: AcquirerProcess) -> None:
    ok = _charge()
    result = runner.run(connector.authorize(ok))
    assert result.outcome == "succeeded" and not result.replayed
    assert runner.run(connector.authorize(ok)).replayed  # same key: replayed, not charged again
    assert len(acquirer.charges_for(ok.payment_id)) == 1
    declined = runner.run(connector.authorize(_charge(vpa="failure@upi")))
    assert (declined.outcome, declined.failure_code) == ("declined", "payment_declined")
    flaky = _charge(vpa="flaky@upi")
    assert runner.run(connector.authorize(flaky)).outcome == "transient_error"
    assert runner.run(connector.retrieve_payment(flaky.idempotency_key)).status == "not_found"
    assert runner.run(connector.authorize(flaky)).outcome == "succeeded"
    token = connector.tokenize_card("4000000000000002", 12, 2030, "123")
    card = runner.run(connector.authorize(_charge(method="card", method_token=token)))
    assert (card.outcome, card.failure_code) == ("declined", "card_declined")
    refund = runner.run(connector.refund(_refund(ok.payment_id, 2500)))
    assert refund.outcome == "succeeded"
    too_much = runner.run(connector.refund(_refund(ok.payment_id, 1)))
    assert (too_much.outcome, too_much.failure_code) == ("declined", "refund_exceeds_capture")


@pytest.mark.parametrize(
    ("mode", "charged"),
    [("5xx_before", False), ("5xx_after", True), ("reset_after", True)],
)
def test_a_fault_leaves_the_outcome_unknown_and_the_inquiry_settles_it(
    connector: AcquirerConnector, acquirer: AcquirerProcess, mode: str, charged: bool
) -> None:
    acquirer.set_faults(rates={mode: 1.0})
    request = _charge()
    result = runner.run(connector.authorize(request))
    assert result.outcome == "unknown", result
    assert len(acquirer.charges_for(request.payment_id)) == int(charged)
    inquiry = runner.run(connector.retrieve_payment(request.idempotency_key))
    assert inquiry.status == ("succeeded" if charged else "not_found")
    acquirer.clear_faults()
    # The retry under the same key settles on exactly one charge either way.
    again = runner.run(connector.authorize(request))
    assert again.outcome == "succeeded" and again.replayed == charged
    assert len(acquirer.charges_for(request.payment_id)) == 1


@pytest.mark.parametrize(("mode", "charged"), [("5xx_after", True), ("5xx_before", False)])
def test_refund_faults_are_unknown_and_inquiry_settles_them(
    connector: AcquirerConnector, acquirer: AcquirerProcess, mode: str, charged: bool
) -> None:
    payment = _charge(amount=1000)
    assert runner.run(connector.authorize(payment)).outcome == "succeeded"
    acquirer.set_faults(rates={mode: 1.0}, targets=["refund"])
    refund = _refund(payment.payment_id, 400)
    assert runner.run(connector.refund(refund)).outcome == "unknown"
    inquiry = runner.run(connector.retrieve_refund(refund.idempotency_key))
    assert inquiry.status == ("succeeded" if charged else "not_found")
    acquirer.clear_faults()
    assert runner.run(connector.refund(refund)).outcome == "succeeded"
    assert acquirer.charges_for(payment.payment_id)[0]["amount_refunded"] == 400


def test_a_hanging_acquirer_is_unknown_within_the_deadline(
    connector: AcquirerConnector, acquirer: AcquirerProcess
) -> None:
    acquirer.set_faults(rates={"hang": 1.0})
    requests = [_charge() for _ in range(20)]
    started = time.monotonic()
    results = runner.run(connector.authorize_many(requests))
    elapsed = time.monotonic() - started
    assert {r.outcome for r in results} == {"unknown"}
    assert elapsed < DEADLINE_S + MARGIN_S, elapsed
    acquirer.clear_faults()
    # While the hung request is held at the acquirer, its key is in progress there; once
    # the acquirer sees the client gone (within 0.25 s), it gives the key back unused.
    key = requests[0].idempotency_key
    first = runner.run(connector.retrieve_payment(key))
    assert first.status in ("unknown", "not_found")
    wait_until(lambda: runner.run(connector.retrieve_payment(key)).status == "not_found", 5, 0.1)
    assert runner.run(connector.authorize(requests[0])).outcome == "succeeded"


def test_a_down_acquirer_is_a_transient_error_and_nothing_is_charged(
    connector: AcquirerConnector, acquirer: AcquirerProcess
) -> None:
    assert acquirer.admin.post("/admin/down", json={"seconds": 2}).status_code == 202
    request = _charge()
    try:
        result = runner.run(connector.authorize(request))
        assert result.outcome == "transient_error", result
        assert runner.run(connector.retrieve_payment(request.idempotency_key)).status == "unknown"
    finally:
        acquirer.wait_healthy()
    assert runner.run(connector.retrieve_payment(request.idempotency_key)).status == "not_found"
    assert runner.run(connector.authorize(request)).outcome == "succeeded"


def test_latency_spends_the_deadline_and_is_unknown(
    connector: AcquirerConnector, acquirer: AcquirerProcess
) -> None:
    """A slow answer past the deadline is unknown: the acquirer may still act after it."""
    acquirer.set_faults(latency={"median_ms": 3000, "p99_ms": 3000})
    request = _charge()
    started = time.monotonic()
    assert runner.run(connector.authorize(request)).outcome == "unknown"
    assert time.monotonic() - started < DEADLINE_S + MARGIN_S
    acquirer.clear_faults()
    # It acted after we gave up: the inquiry (polled until the acquirer has acted) says so.
    wait_until(
        lambda: (
            runner.run(connector.retrieve_payment(request.idempotency_key)).status == "succeeded"
        ),
        timeout=30,
        step=0.1,
    )


def test_one_session_serves_every_thread_and_batch(connector: AcquirerConnector) -> None:
    sessions = set()

    def work() -> None:
        for _ in range(3):
            assert runner.run(connector.authorize(_charge())).outcome == "succeeded"
            sessions.add(id(connector._session))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # A coroutine on another loop (asyncio.run, as batches run today) uses the same pool.
    import asyncio

    assert asyncio.run(connector.authorize(_charge())).outcome == "succeeded"
    sessions.add(id(connector._session))
    assert len(sessions) == 1
    runner.run(connector.aclose())
