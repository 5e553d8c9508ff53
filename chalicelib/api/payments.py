"""Payment routes: parse, call the service, render."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.api.endpoint import ApiResult, Call, endpoint

bp = Blueprint(__name__)

COMMON_ERRORS = (401, 429, 500, 503)


@endpoint(
    bp,
    "/api/v1/payments",
    "POST",
    summary="Create a payment",
    access="write",
    status=202,
    body="payments.CreatePaymentRequest",
    response="payments.PaymentCreated",
    errors=(400, 409, 413, 415, *COMMON_ERRORS),
)
def create_payment(call: Call) -> ApiResult:
    from chalicelib.services import payments

    payment = payments.create_payment(call.uow, call.merchant_id, call.body)
    return ApiResult(payment, 202, {"Location": f"/api/v1/payments/{payment.id}"})


@endpoint(
    bp,
    "/api/v1/payments",
    "GET",
    summary="List payments, newest first",
    access="read",
    query="payments.ListPaymentsQuery",
    response="payments.PaymentList",
    errors=(400, *COMMON_ERRORS),
)
def list_payments(call: Call) -> ApiResult:
    from chalicelib.models.payments import PaymentList
    from chalicelib.services import payments

    data, has_more = payments.list_payments(call.conn, call.merchant_id, call.query)
    return ApiResult(PaymentList(data=data, has_more=has_more))


@endpoint(
    bp,
    "/api/v1/payments/{payment_id}",
    "GET",
    summary="Retrieve a payment",
    access="read",
    response="payments.Payment",
    errors=(404, *COMMON_ERRORS),
)
def get_payment(call: Call, payment_id: str) -> ApiResult:
    from chalicelib.services import payments

    return ApiResult(payments.get_payment(call.conn, call.merchant_id, payment_id))


@endpoint(
    bp,
    "/api/v1/payments/{payment_id}/cancel",
    "POST",
    summary="Cancel a PENDING payment (200), or void an AUTHORIZED one (202)",
    access="write",
    response="payments.Payment",
    also=(202,),
    errors=(400, 404, 409, 413, 415, *COMMON_ERRORS),
)
def cancel_payment(call: Call, payment_id: str) -> ApiResult:
    from chalicelib.services import payments

    payment = payments.cancel_payment(call.uow, call.merchant_id, payment_id)
    # An AUTHORIZED payment stays so until the queued void is done.
    return ApiResult(payment, 202 if payment.status == "AUTHORIZED" else 200)


@endpoint(
    bp,
    "/api/v1/payments/{payment_id}/capture",
    "POST",
    summary="Capture all or part of an AUTHORIZED payment",
    access="write",
    status=202,
    body="payments.CapturePaymentRequest",
    response="payments.Payment",
    errors=(400, 404, 409, 413, 415, *COMMON_ERRORS),
)
def capture_payment(call: Call, payment_id: str) -> ApiResult:
    from chalicelib.services import captures

    body = call.body
    amount = body.amount if body is not None else None
    return ApiResult(
        captures.capture_payment(call.uow, call.merchant_id, payment_id, amount),
        202,
    )


@endpoint(
    bp,
    "/api/v1/payments/{payment_id}/history",
    "GET",
    summary="Every status change of a payment, oldest first",
    access="read",
    response="payments.PaymentHistory",
    errors=(404, *COMMON_ERRORS),
)
def payment_history(call: Call, payment_id: str) -> ApiResult:
    from chalicelib.models.payments import PaymentHistory
    from chalicelib.services import payments

    return ApiResult(
        PaymentHistory(data=payments.payment_history(call.conn, call.merchant_id, payment_id))
    )
