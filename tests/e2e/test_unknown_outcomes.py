"""Unknown outcomes through the API and the queue, with the test-mode connector.

`timeout@upi` (and card 4000000000000259) is charged by the simulator, whose first
answer is lost, as a timeout after the acquirer acted would be. The attempt is
`unknown` until an inquiry at the same connector settles it.
"""

from __future__ import annotations

from typing import Any

import httpx

from chalicelib import db
from chalicelib.clock import utcnow
from chalicelib.queue import finish_sql
from chalicelib.queue import sql as queue_sql
from tests.e2e.helpers import create_payment, unique


def _charges(payment_id: str) -> int:
    with db.connection() as conn:
        row = conn.execute(
            "SELECT count(*) AS n FROM processor_sim.charges WHERE payment_id = %s", (payment_id,)
        ).fetchone()
    return int(row["n"])


def _inquiries(object_id: str) -> list[dict[str, Any]]:
    with db.connection() as conn:
        return conn.execute(
            "SELECT status, resolution, attempt, attempts, connector, flagged_at"
            " FROM inquiries WHERE object_id = %s ORDER BY created_at",
            (object_id,),
        ).fetchall()


def test_an_unknown_attempt_holds_the_payment_until_the_inquiry_finds_the_charge(
    api: httpx.Client, run_processor
) -> None:
    order_id = unique()
    payment = create_payment(api, order_id=order_id, vpa="timeout@upi")

    first = run_processor()
    assert first["unknown"] == 1
    held = api.get(f"/api/v1/payments/{payment['id']}").json()
    assert held["status"] == "PROCESSING" and held["outcome_unknown_since"] is not None
    assert held["connector"] == "simulator" and held["failure_code"] is None
    assert _charges(payment["id"]) == 1  # the money moved; only the answer was lost
    assert [i["status"] for i in _inquiries(payment["id"])] == ["PENDING"]

    # While unknown: no cancel, and the order stays taken.
    refused = api.post(f"/api/v1/payments/{payment['id']}/cancel")
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "payment_not_cancellable"
    again = api.post(
        "/api/v1/payments",
        json={"order_id": order_id, "amount": 10_000, "currency": "INR", "method": "upi"},
    )
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "order_has_active_payment"

    run_processor()  # the inquiry is due at once in the test stage
    settled = api.get(f"/api/v1/payments/{payment['id']}").json()
    assert settled["status"] == "SUCCESS" and settled["outcome_unknown_since"] is None
    assert _charges(payment["id"]) == 1, "settled by inquiry, never charged again"
    inquiry = _inquiries(payment["id"])
    assert [(i["status"], i["resolution"]) for i in inquiry] == [("RESOLVED", "succeeded")]

    history = api.get(f"/api/v1/payments/{payment['id']}/history").json()["data"]
    outcomes = [(h["to_status"], h["outcome"], h["resolution"]) for h in history]
    assert outcomes == [
        ("PENDING", None, None),
        ("PROCESSING", None, None),
        ("PROCESSING", "unknown", None),
        ("SUCCESS", "resolved_by_inquiry", "succeeded"),
    ]
    assert {h["connector"] for h in history[2:]} == {"simulator"}
    events = api.get("/api/v1/events", params={"type": "payment.succeeded"}).json()["data"]
    assert [e["data"]["id"] for e in events].count(payment["id"]) == 1


def _claim_and_lose_the_answer(payment_id: str) -> None:
    """A claimed attempt whose call never reached the acquirer but whose answer was
    lost all the same (a timeout before the request was read): the real claim and
    finish statements, with the outcome `unknown`."""
    now = utcnow()
    with db.unit_of_work() as uow:
        (row,) = queue_sql.claim(uow.conn, queue_sql.PAYMENTS, [payment_id], now, now)
    columns = {
        "ids": [row["id"]],
        "claimed_ats": [row["claimed_at"]],
        "statuses": ["PROCESSING"],
        "attempts": [row["attempts"]],
        "outcomes": ["unknown"],
        "codes": [None],
        "messages": [None],
        "next_attempt_ats": [None],
        "latencies": [5000],
        "attempt_codes": ["timeout"],
        "inquiry_ids": ["inq_" + payment_id[4:]],
        "inquiry_due": now,
    }
    with db.unit_of_work() as uow:
        assert queue_sql.finish(uow.conn, finish_sql.PAYMENTS, columns, now)


def test_an_inquiry_that_finds_no_charge_lets_the_payment_be_retried(
    api: httpx.Client, run_processor
) -> None:
    payment = create_payment(api, vpa="success@upi")
    _claim_and_lose_the_answer(payment["id"])
    assert api.get(f"/api/v1/payments/{payment['id']}").json()["status"] == "PROCESSING"
    run_processor()  # inquiry: not found → PENDING, retried with the same key
    run_processor()
    settled = api.get(f"/api/v1/payments/{payment['id']}").json()
    assert settled["status"] == "SUCCESS" and settled["attempts"] == 2
    assert _charges(payment["id"]) == 1
    assert [(i["status"], i["resolution"]) for i in _inquiries(payment["id"])] == [
        ("RESOLVED", "not_charged")
    ]
    history = api.get(f"/api/v1/payments/{payment['id']}/history").json()["data"]
    assert ("PENDING", "resolved_by_inquiry", "not_charged") in [
        (h["to_status"], h["outcome"], h["resolution"]) for h in history
    ]


def test_queue_stats_count_unknown_attempts(api: httpx.Client, run_processor) -> None:
    from chalicelib.queue import operations

    payment = create_payment(api, vpa="success@upi")
    _claim_and_lose_the_answer(payment["id"])
    with db.unit_of_work(write=False) as uow:
        stats = operations.queue_stats(uow.conn)
    assert stats["unknown_payment_attempts"] >= 1
    run_processor()
    run_processor()
    with db.unit_of_work(write=False) as uow:
        after = operations.queue_stats(uow.conn)
    assert after["unknown_payment_attempts"] == stats["unknown_payment_attempts"] - 1


def test_a_card_whose_answer_is_lost_is_charged_once(api: httpx.Client, run_processor) -> None:
    payment = create_payment(
        api,
        method="card",
        card={"number": "4000000000000259", "exp_month": 12, "exp_year": 2040, "cvc": "123"},
    )
    run_processor()
    assert api.get(f"/api/v1/payments/{payment['id']}").json()["status"] == "PROCESSING"
    run_processor()
    assert api.get(f"/api/v1/payments/{payment['id']}").json()["status"] == "SUCCESS"
    assert _charges(payment["id"]) == 1
