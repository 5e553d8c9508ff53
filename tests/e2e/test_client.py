"""The generated client (clients/python) against the HTTP server: pay, refund, list.

What a merchant's code would do with it, typed end to end: the answers are the client's
models (enums, datetimes), not dictionaries."""

from __future__ import annotations

import datetime

from gateway_client import AuthenticatedClient
from gateway_client.api.payments import create_payment, get_payment, list_payments
from gateway_client.api.refunds import create_refund, list_refunds
from gateway_client.models import (
    CreatePaymentRequest,
    CreateRefundRequest,
    ErrorResponse,
    Payment,
    PaymentCreated,
    PaymentList,
    PaymentMethod,
    PaymentStatus,
    Refund,
    RefundList,
    RefundStatus,
)

from tests.e2e.helpers import unique


def test_pay_refund_and_list_through_the_client(live_server, merchant, run_processor) -> None:
    order_id = unique()
    with AuthenticatedClient(base_url=live_server.base_url, token=merchant.api_key) as api:
        created = create_payment.sync(
            client=api,
            body=CreatePaymentRequest(
                order_id=order_id,
                amount=12_000,
                currency="INR",
                method=PaymentMethod.UPI,
                vpa="success@upi",
            ),
            idempotency_key=f"{order_id}-1",
        )
        assert isinstance(created, PaymentCreated), created
        assert created.status is PaymentStatus.PENDING and created.id.startswith("pay_")
        assert isinstance(created.created_at, datetime.datetime)
        assert created.created_at.tzinfo is not None

        run_processor()
        paid = get_payment.sync(created.id, client=api)
        assert isinstance(paid, Payment) and paid.status is PaymentStatus.SUCCESS, paid

        refund = create_refund.sync(
            created.id, client=api, body=CreateRefundRequest(amount=2_000, reason="damaged")
        )
        assert isinstance(refund, Refund) and refund.status is RefundStatus.PENDING, refund
        too_much = create_refund.sync_detailed(
            created.id, client=api, body=CreateRefundRequest(amount=20_000)
        )
        assert too_much.status_code == 400 and isinstance(too_much.parsed, ErrorResponse)
        assert too_much.parsed.error.code == "amount_too_large", too_much.parsed
        assert too_much.parsed.error.param == "amount"

        run_processor()
        refunds = list_refunds.sync(created.id, client=api)
        assert isinstance(refunds, RefundList)
        assert [(r.id, r.amount, r.status) for r in refunds.data] == [
            (refund.id, 2_000, RefundStatus.SUCCESS)
        ]
        payments = list_payments.sync(client=api, order_id=order_id, status=PaymentStatus.SUCCESS)
        assert isinstance(payments, PaymentList) and not payments.has_more
        assert [(p.id, p.amount_refunded) for p in payments.data] == [(created.id, 2_000)]
