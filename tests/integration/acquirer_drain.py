"""Helpers for draining real payments and refunds through an acquirer process.

Payments and refunds are accepted through the services (as the API does), processed
by `process_payments` in this process, against a connector registered under a name
of the test's own, so breakers and books never mix with another test's.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

from chalicelib import connectors, db
from chalicelib.connectors import routing
from chalicelib.connectors.acquirer import AcquirerConnector
from chalicelib.models.payments import CreatePaymentRequest
from chalicelib.models.refunds import CreateRefundRequest
from chalicelib.services import merchants, payments, refunds
from tests.integration.acquirer_process import AcquirerProcess

FINAL = {"SUCCESS", "FAILED", "CANCELLED"}


def register(acquirer: AcquirerProcess, deadline_s: float = 1.5) -> str:
    """A connector of a fresh name for this acquirer process; its name."""
    name = f"acq_{uuid.uuid4().hex[:10]}"
    connectors.register(name, AcquirerConnector(acquirer.url, name=name, deadline_s=deadline_s))
    return name


def merchant_on(*connector_names: str) -> merchants.CreatedMerchant:
    with db.unit_of_work() as uow:
        merchant = merchants.create_merchant(uow.conn, "Acquirer test merchant")
        routing.set_merchant_connectors(uow.conn, merchant.merchant_id, list(connector_names))
    return merchant


def accept_payments(
    merchant_id: str, count: int, amount: int = 10_000, vpa: str | None = None
) -> list[str]:
    """`count` UPI payments (of a test-mode VPA, if given), accepted as the API would."""
    tag = uuid.uuid4().hex[:8]
    with db.unit_of_work() as uow:
        return [
            payments.create_payment(
                uow,
                merchant_id,
                CreatePaymentRequest(
                    order_id=f"acq_{tag}_{i}",
                    amount=amount,
                    currency="INR",
                    method="upi",
                    vpa=vpa,
                ),
            ).id
            for i in range(count)
        ]


def accept_refunds(merchant_id: str, payment_ids: list[str], amount: int) -> list[str]:
    with db.unit_of_work() as uow:
        return [
            refunds.create_refund(uow, merchant_id, pid, CreateRefundRequest(amount=amount)).id
            for pid in payment_ids
        ]


def statuses(table: str, ids: list[str]) -> dict[str, str]:
    with db.connection() as conn:
        rows = conn.execute(
            f"SELECT id, status FROM {table} WHERE id = ANY(%s)",  # table: a constant
            (ids,),
        ).fetchall()
    return {r["id"]: r["status"] for r in rows}


def drain_until_final(
    run_processor: Callable[..., dict[str, Any]],
    payment_ids: list[str],
    refund_ids: list[str] = (),  # type: ignore[assignment]
    seconds: float = 120,
) -> list[dict[str, Any]]:
    """Run the handler until every payment and refund is final; the run summaries."""
    deadline = time.monotonic() + seconds
    runs = []
    while True:
        runs.append(run_processor(30))
        open_payments = [p for p, s in statuses("payments", payment_ids).items() if s not in FINAL]
        open_refunds = [
            r for r, s in statuses("refunds", list(refund_ids)).items() if s not in FINAL
        ]
        if not open_payments and not open_refunds:
            return runs
        assert time.monotonic() < deadline, (
            f"not final after {seconds}s: {len(open_payments)} payments, "
            f"{len(open_refunds)} refunds; last run {runs[-1]}"
        )
        time.sleep(0.2)  # the retries' backoff is measured in seconds: do not spin


def gateway_connectors(payment_ids: list[str]) -> dict[str, str | None]:
    with db.connection() as conn:
        rows = conn.execute(
            "SELECT id, connector FROM payments WHERE id = ANY(%s)", (payment_ids,)
        ).fetchall()
    return {r["id"]: r["connector"] for r in rows}
