"""Answers that do not say whether money moved leave the attempt unknown (issue 22).

A stub acquirer (aiohttp, in a thread of the test) answers every authorization and
refund with one status, and every inquiry "in progress". Through the real drain, a 408
(a load balancer's timeout), a 409 `request_in_progress` (the same key still running),
a 425 or a 5xx must leave the payment PROCESSING with its outcome unknown, holding its
order and refusing a cancel: never FAILED, which would release the order while money
may have moved. Today's code read every 4xx but 429 as a decline.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest
from aiohttp import web

from chalicelib import db
from chalicelib.errors import GatewayError
from chalicelib.services import payments
from tests.integration.acquirer_drain import (
    accept_payments,
    accept_refunds,
    merchant_on,
    statuses,
)
from tests.support import free_port


class StubAcquirer:
    """Answers POSTs with `status`/`body`; inquiries and voids say "still in progress"."""

    def __init__(self) -> None:
        self.status = 500
        self.body: dict[str, object] = {}
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.calls = 0

    async def _post(self, request: web.Request) -> web.Response:
        self.calls += 1
        return web.json_response(self.body, status=self.status)

    async def _inquiry(self, request: web.Request) -> web.Response:
        key = request.match_info["key"]
        return web.json_response(
            {"id": "ch_x", "idempotency_key": key, "amount": 1, "currency": "INR",
             "status": "in_progress"}
        )  # fmt: skip

    def serve(self, ready: threading.Event, stop: threading.Event) -> None:
        async def main() -> None:
            app = web.Application()
            app.router.add_post("/v1/authorizations", self._post)
            app.router.add_post("/v1/refunds", self._post)
            app.router.add_get("/v1/authorizations/{key}", self._inquiry)
            app.router.add_get("/v1/refunds/{key}", self._inquiry)
            runner = web.AppRunner(app)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", self.port).start()
            ready.set()
            while not stop.is_set():
                await asyncio.sleep(0.05)
            await runner.cleanup()

        asyncio.run(main())


@pytest.fixture
def stub() -> Iterator[StubAcquirer]:
    acquirer = StubAcquirer()
    ready, stop = threading.Event(), threading.Event()
    thread = threading.Thread(target=acquirer.serve, args=(ready, stop), daemon=True)
    thread.start()
    assert ready.wait(10)
    yield acquirer
    stop.set()
    thread.join(10)


def _register(stub: StubAcquirer) -> str:
    import uuid

    from chalicelib import connectors
    from chalicelib.connectors.acquirer import AcquirerConnector

    name = f"stub_{uuid.uuid4().hex[:10]}"
    connectors.register(name, AcquirerConnector(stub.url, name=name, deadline_s=2.0))
    return name


def _unknown_since(table: str, object_id: str) -> object:
    with db.connection() as conn:
        row = conn.execute(
            f"SELECT outcome_unknown_since FROM {table} WHERE id = %s",  # table: a constant
            (object_id,),
        ).fetchone()
    return row["outcome_unknown_since"]


def _run_until_attempted(table: str, object_id: str, run_processor) -> None:  # type: ignore[no-untyped-def]
    """Run the handler until the row has had its attempt (other tests' work may be due)."""
    for _ in range(20):
        run_processor(30)
        with db.connection() as conn:
            row = conn.execute(
                f"SELECT attempts, status FROM {table} WHERE id = %s",  # table: a constant
                (object_id,),
            ).fetchone()
        if row["attempts"] >= 1 and row["status"] != "PENDING":
            return
    pytest.fail(f"{object_id} was never attempted")


AMBIGUOUS = [
    (408, {}),
    (408, {"error": {"code": "request_timeout", "message": "upstream timed out"}}),
    (409, {"error": {"code": "request_in_progress", "message": "still running"}}),
    (425, {}),
    (400, {"error": {"code": "something_we_do_not_know"}}),
    (502, {}),
]


@pytest.mark.parametrize(("status", "body"), AMBIGUOUS)
def test_an_ambiguous_answer_leaves_the_payment_unknown(
    stub: StubAcquirer, status: int, body: dict[str, object], run_processor
) -> None:
    stub.status, stub.body = status, body
    merchant = merchant_on(_register(stub))
    (payment_id,) = accept_payments(merchant.merchant_id, 1)
    _run_until_attempted("payments", payment_id, run_processor)
    assert statuses("payments", [payment_id]) == {payment_id: "PROCESSING"}
    assert _unknown_since("payments", payment_id) is not None
    with db.unit_of_work() as uow:
        with pytest.raises(GatewayError) as refused:
            payments.cancel_payment(uow, merchant.merchant_id, payment_id)
    assert refused.value.code == "payment_not_cancellable"
    # The inquiries go on and say "in progress": the payment stays unknown.
    run_processor(30)
    assert statuses("payments", [payment_id]) == {payment_id: "PROCESSING"}


def test_an_ambiguous_refund_answer_keeps_the_reservation(
    stub: StubAcquirer, run_processor
) -> None:
    """A refund answered 409 stays unknown with its amount reserved: no second refund of
    the same money can be made meanwhile."""
    merchant = merchant_on(_register(stub))
    stub.status = 200
    (payment_id,) = accept_payments(merchant.merchant_id, 1)
    stub.body = {"id": "ch_1", "idempotency_key": payment_id, "amount": 10_000,
                 "currency": "INR", "status": "succeeded"}  # fmt: skip
    _run_until_attempted("payments", payment_id, run_processor)
    assert statuses("payments", [payment_id]) == {payment_id: "SUCCESS"}
    stub.status, stub.body = 409, {"error": {"code": "request_in_progress"}}
    (refund_id,) = accept_refunds(merchant.merchant_id, [payment_id], 10_000)
    _run_until_attempted("refunds", refund_id, run_processor)
    assert statuses("refunds", [refund_id]) == {refund_id: "PROCESSING"}
    assert _unknown_since("refunds", refund_id) is not None
    with pytest.raises(GatewayError) as too_much:
        accept_refunds(merchant.merchant_id, [payment_id], 1)
    assert too_much.value.status in (400, 409)
