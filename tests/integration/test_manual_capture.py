"""Manual capture (issue 25) through the services and the drain, on the simulator's books.

authorize → AUTHORIZED; capture (full or partial) → SUCCESS with `amount_captured`;
cancel → void → CANCELLED; refunds within the captured amount; the refusals' codes; a
capture and a cancel at once (one wins, the other gets its 409); the expiry sweep.
"""

from __future__ import annotations

import threading
import uuid
from typing import Any

import pytest

from chalicelib import db, settings
from chalicelib.errors import AmountTooLargeError, ConflictError, GatewayError
from chalicelib.handlers import expire_authorizations
from chalicelib.models.payments import CreatePaymentRequest
from chalicelib.models.refunds import CreateRefundRequest
from chalicelib.services import captures, payments, refunds


def _create(merchant_id: str, amount: int = 10_000, capture_method: str = "manual") -> str:
    request = CreatePaymentRequest(
        order_id=f"manual_{uuid.uuid4().hex[:16]}",
        amount=amount,
        currency="INR",
        method="upi",
        capture_method=capture_method,  # type: ignore[arg-type]
    )
    with db.unit_of_work() as uow:
        return payments.create_payment(uow, merchant_id, request).id


def _payment(merchant_id: str, payment_id: str) -> Any:
    with db.unit_of_work(write=False) as uow:
        return payments.get_payment(uow.conn, merchant_id, payment_id)


def _history(merchant_id: str, payment_id: str) -> list[tuple[Any, ...]]:
    with db.unit_of_work(write=False) as uow:
        entries = payments.payment_history(uow.conn, merchant_id, payment_id)
    return [(e.from_status, e.to_status, e.outcome) for e in entries]


def _events(payment_id: str) -> list[str]:
    with db.connection() as conn:
        rows = conn.execute(
            "SELECT type FROM events WHERE data->>'id' = %s ORDER BY created_at, id",
            (payment_id,),
        ).fetchall()
    return [r["type"] for r in rows]


def _books(payment_id: str) -> dict[str, Any]:
    with db.connection() as conn:
        return conn.execute(
            "SELECT c.amount, c.capture_state, c.amount_captured,"
            " (SELECT count(*) FROM processor_sim.operations o"
            "  WHERE o.charge_key = c.idempotency_key AND o.type = 'capture'"
            "  AND o.outcome = 'succeeded') AS captures"
            " FROM processor_sim.charges c WHERE c.payment_id = %s",
            (payment_id,),
        ).fetchone()


def _capture(merchant_id: str, payment_id: str, amount: int | None = None) -> Any:
    with db.unit_of_work() as uow:
        return captures.capture_payment(uow, merchant_id, payment_id, amount)


def _cancel(merchant_id: str, payment_id: str) -> Any:
    with db.unit_of_work() as uow:
        return payments.cancel_payment(uow, merchant_id, payment_id)


def _authorized(merchant_id: str, run_processor: Any, amount: int = 10_000) -> str:
    payment_id = _create(merchant_id, amount)
    run_processor()
    assert _payment(merchant_id, payment_id).status == "AUTHORIZED"
    return payment_id


def test_authorize_then_partial_capture_then_refund_within_the_capture(merchant, run_processor):
    m = merchant.merchant_id
    payment_id = _create(m, 10_000)
    run_processor()
    authorized = _payment(m, payment_id)
    assert authorized.status == "AUTHORIZED"
    assert (authorized.amount_capturable, authorized.amount_captured) == (10_000, 0)
    assert authorized.capture_method == "manual" and authorized.capture_before is not None
    ttl = (authorized.capture_before - authorized.created_at).total_seconds()
    assert 0 < ttl <= settings.get_settings().authorization_ttl_s + 5
    assert _books(payment_id)["capture_state"] == "authorized"

    queued = _capture(m, payment_id, 6_000)
    assert queued.status == "AUTHORIZED"  # 202: the capture runs through the queue
    run_processor()
    captured = _payment(m, payment_id)
    assert captured.status == "SUCCESS"
    assert (captured.amount_captured, captured.amount_capturable) == (6_000, 0)
    books = _books(payment_id)
    assert (books["capture_state"], books["amount_captured"], books["captures"]) == (
        "captured", 6_000, 1,
    )  # fmt: skip
    # (the two events of the capture share its transaction's time: their order is not kept)
    assert sorted(_events(payment_id)) == [
        "payment.authorized", "payment.captured", "payment.succeeded",
    ]  # fmt: skip
    assert _history(m, payment_id)[-2:] == [
        ("PROCESSING", "AUTHORIZED", "succeeded"),
        ("AUTHORIZED", "SUCCESS", "captured"),
    ]

    # Refunds take from the captured 6,000 only; the released 4,000 is not refundable.
    with db.unit_of_work() as uow, pytest.raises(AmountTooLargeError):
        refunds.create_refund(uow, m, payment_id, CreateRefundRequest(amount=6_001))
    with db.unit_of_work() as uow:
        refund = refunds.create_refund(uow, m, payment_id, CreateRefundRequest())
    assert refund.amount == 6_000
    run_processor()
    assert _payment(m, payment_id).amount_refunded == 6_000


def test_a_full_capture_by_default(merchant, run_processor):
    payment_id = _authorized(merchant.merchant_id, run_processor, 7_500)
    _capture(merchant.merchant_id, payment_id)
    run_processor()
    assert _payment(merchant.merchant_id, payment_id).amount_captured == 7_500


def _code(call: Any) -> str:
    with pytest.raises(GatewayError) as refused:
        call()
    return f"{refused.value.status} {refused.value.code}"


def test_the_refusals_have_their_documented_codes(merchant, run_processor):
    m = merchant.merchant_id
    payment_id = _authorized(m, run_processor, 5_000)
    assert _code(lambda: _capture(m, payment_id, 5_001)) == "400 amount_too_large"
    _capture(m, payment_id, 1_000)
    # a second capture, while the first is under way and after it succeeded
    assert _code(lambda: _capture(m, payment_id)) == "409 payment_already_captured"
    assert _code(lambda: _cancel(m, payment_id)) == "409 payment_not_cancellable"
    run_processor()
    assert _code(lambda: _capture(m, payment_id)) == "409 payment_already_captured"
    assert _code(lambda: _cancel(m, payment_id)) == "409 payment_not_cancellable"

    automatic = _create(m, 5_000, "automatic")
    assert _code(lambda: _capture(m, automatic)) == "409 payment_not_capturable"  # PENDING
    run_processor()
    assert _code(lambda: _capture(m, automatic)) == "409 payment_not_capturable"  # SUCCESS
    assert _payment(m, automatic).amount_captured == 5_000
    assert _code(lambda: _capture(m, "pay_doesnotexist")) == "404 resource_missing"


def test_cancel_voids_the_authorization_and_nothing_can_be_captured_after(merchant, run_processor):
    m = merchant.merchant_id
    payment_id = _authorized(m, run_processor)
    assert _cancel(m, payment_id).status == "AUTHORIZED"  # 202: the void is queued
    assert _code(lambda: _capture(m, payment_id)) == "409 payment_not_capturable"
    run_processor()
    cancelled = _payment(m, payment_id)
    assert (cancelled.status, cancelled.cancellation_reason) == (
        "CANCELLED", "requested_by_customer",
    )  # fmt: skip
    assert _books(payment_id)["capture_state"] == "voided"
    assert _events(payment_id) == ["payment.authorized", "payment.cancelled"]
    assert _history(m, payment_id)[-1] == ("AUTHORIZED", "CANCELLED", "voided")
    assert _code(lambda: _capture(m, payment_id)) == "409 payment_not_capturable"
    # The order is free again.
    with db.connection() as conn:
        row = conn.execute("SELECT released_at FROM payments WHERE id = %s", (payment_id,))
        assert row.fetchone()["released_at"] is not None


def test_concurrent_capture_and_cancel_exactly_one_wins(merchant, run_processor):
    m = merchant.merchant_id
    ids = [_authorized(m, run_processor) for _ in range(6)]
    outcomes: dict[str, list[str]] = {pid: [] for pid in ids}

    def attempt(payment_id: str, action: str, barrier: threading.Barrier) -> None:
        barrier.wait()
        try:
            if action == "capture":
                _capture(m, payment_id, 3_000)
            else:
                _cancel(m, payment_id)
            outcomes[payment_id].append(f"{action} accepted")
        except ConflictError as exc:
            outcomes[payment_id].append(f"{action} {exc.code}")

    for payment_id in ids:
        barrier = threading.Barrier(2)
        threads = [
            threading.Thread(target=attempt, args=(payment_id, action, barrier))
            for action in ("capture", "cancel")
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    run_processor()
    for payment_id, got in outcomes.items():
        accepted = [o for o in got if o.endswith("accepted")]
        assert len(accepted) == 1, got
        refused = next(o for o in got if not o.endswith("accepted"))
        assert refused in ("capture payment_not_capturable", "cancel payment_not_cancellable")
        books = _books(payment_id)
        final = _payment(m, payment_id)
        if accepted[0].startswith("capture"):
            assert final.status == "SUCCESS" and books["capture_state"] == "captured"
        else:
            assert final.status == "CANCELLED" and books["capture_state"] == "voided"
        assert books["captures"] <= 1


@pytest.fixture
def short_authorizations(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("AUTHORIZATION_TTL_S", "1")
    settings.reset_settings()
    yield
    monkeypatch.undo()
    settings.reset_settings()


def test_expired_authorizations_are_voided_by_the_sweep(
    merchant, run_processor, short_authorizations
):
    import time

    m = merchant.merchant_id
    payment_id = _authorized(m, run_processor)
    time.sleep(1.2)
    assert _code(lambda: _capture(m, payment_id)) == "409 authorization_expired"
    assert expire_authorizations.expire_authorizations()["voids_queued"] >= 1
    assert _code(lambda: _cancel(m, payment_id)) == "409 payment_not_cancellable"
    run_processor()
    expired = _payment(m, payment_id)
    assert (expired.status, expired.cancellation_reason) == ("CANCELLED", "expired")
    assert _history(m, payment_id)[-1] == ("AUTHORIZED", "CANCELLED", "expired")
    assert _events(payment_id)[-1] == "payment.cancelled"
    assert _books(payment_id)["capture_state"] == "voided"


def test_a_capture_racing_the_sweep_has_one_outcome(merchant, run_processor, short_authorizations):
    """The capture is accepted just before the deadline; the sweep then finds the payment
    held by it and queues nothing. The acquirer's own deadline has passed when the capture
    arrives, so it is declined, and only then does the next sweep void the payment."""
    import time

    m = merchant.merchant_id
    payment_id = _authorized(m, run_processor)
    _capture(m, payment_id, 2_000)
    time.sleep(1.2)
    assert expire_authorizations.expire_authorizations()["voids_queued"] == 0
    run_processor()
    assert _payment(m, payment_id).status == "AUTHORIZED"  # the capture was declined
    assert _books(payment_id)["capture_state"] == "authorized"
    assert expire_authorizations.expire_authorizations()["voids_queued"] == 1
    run_processor()
    final = _payment(m, payment_id)
    assert (final.status, final.amount_captured) == ("CANCELLED", 0)
    books = _books(payment_id)
    assert (books["capture_state"], books["captures"]) == ("voided", 0)


def test_an_authorization_whose_answer_was_lost_is_authorized_by_its_inquiry(
    merchant, run_processor
):
    """The simulator authorizes, and the answer is lost: the payment stays PROCESSING
    until the inquiry finds the authorization; then it is AUTHORIZED (never SUCCESS) with
    its deadline, and can be captured."""
    m = merchant.merchant_id
    request = CreatePaymentRequest(
        order_id=f"lost_{uuid.uuid4().hex[:12]}",
        amount=3_000,
        currency="INR",
        method="upi",
        vpa="timeout@upi",
        capture_method="manual",
    )
    with db.unit_of_work() as uow:
        payment_id = payments.create_payment(uow, m, request).id
    run_processor()
    assert _payment(m, payment_id).outcome_unknown_since is not None
    for _ in range(20):
        run_processor()
        if _payment(m, payment_id).status != "PROCESSING":
            break
    found = _payment(m, payment_id)
    assert (found.status, found.amount_capturable) == ("AUTHORIZED", 3_000)
    assert found.capture_before is not None
    assert _history(m, payment_id)[-1] == ("PROCESSING", "AUTHORIZED", "resolved_by_inquiry")
    _capture(m, payment_id)
    run_processor()
    assert _payment(m, payment_id).amount_captured == 3_000
    assert _books(payment_id)["captures"] == 1


@pytest.fixture
def three_second_authorizations(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("AUTHORIZATION_TTL_S", "3")
    settings.reset_settings()
    yield
    monkeypatch.undo()
    settings.reset_settings()


def test_a_capture_and_the_sweep_at_the_deadline_have_exactly_one_outcome(
    merchant, run_processor, three_second_authorizations
):
    """At the deadline both may start: the one that locks the payment first wins. The
    sweep runs with a clock at the deadline (`now` past `capture_before`) while the
    capture's own clock is just before it."""
    import time
    from datetime import timedelta

    from chalicelib.clock import utcnow

    m = merchant.merchant_id

    # 1. The capture holds the payment (uncommitted): the sweep skips it, then finds it
    #    held by the capture; the capture wins.
    first = _authorized(m, run_processor)
    deadline = _payment(m, first).capture_before + timedelta(seconds=1)
    with db.unit_of_work() as capture_uow:
        captures.capture_payment(capture_uow, m, first, 1_000)
        with db.unit_of_work() as sweep_uow:
            assert captures.expire_authorizations(sweep_uow, deadline, 10) == 0
    with db.unit_of_work() as sweep_uow:
        assert captures.expire_authorizations(sweep_uow, deadline, 10) == 0

    # 2. The sweep holds the payment (uncommitted): the capture waits for it, then is
    #    refused with its 409; the void wins.
    second = _authorized(m, run_processor)
    deadline = _payment(m, second).capture_before + timedelta(seconds=1)
    refused: list[str] = []

    def capture_meanwhile() -> None:
        try:
            _capture(m, second, 1_000)
        except ConflictError as exc:
            refused.append(exc.code)

    with db.unit_of_work() as sweep_uow:
        assert captures.expire_authorizations(sweep_uow, deadline, 10) >= 1
        racer = threading.Thread(target=capture_meanwhile)
        racer.start()
        racer.join(0.5)
        assert racer.is_alive()  # waiting for the sweep's lock on the payment
    racer.join(10)
    assert refused == ["payment_not_capturable"]

    time.sleep(max(0.0, (deadline - utcnow()).total_seconds()))  # the void is due then
    run_processor()
    won, lost = _payment(m, first), _payment(m, second)
    assert (won.status, won.amount_captured) == ("SUCCESS", 1_000)
    assert (lost.status, lost.cancellation_reason, lost.amount_captured) == (
        "CANCELLED", "expired", 0,
    )  # fmt: skip
    assert _books(first)["capture_state"] == "captured" and _books(first)["captures"] == 1
    assert _books(second)["capture_state"] == "voided" and _books(second)["captures"] == 0
