"""Refund routes: parse, call the service, render."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.api.endpoint import ApiResult, Call, endpoint

bp = Blueprint(__name__)

COMMON_ERRORS = (401, 429, 500, 503)


@endpoint(
    bp,
    "/api/v1/payments/{payment_id}/refunds",
    "POST",
    summary="Refund a SUCCESS payment, in full (empty body) or in part",
    access="write",
    status=202,
    body="refunds.CreateRefundRequest",
    response="refunds.Refund",
    errors=(400, 404, 409, 413, 415, *COMMON_ERRORS),
)
def create_refund(call: Call, payment_id: str) -> ApiResult:
    from chalicelib.services import refunds

    refund = refunds.create_refund(call.uow, call.merchant_id, payment_id, call.body)
    return ApiResult(refund, 202, {"Location": f"/api/v1/refunds/{refund.id}"})


@endpoint(
    bp,
    "/api/v1/payments/{payment_id}/refunds",
    "GET",
    summary="List a payment's refunds, newest first",
    access="read",
    query="refunds.ListRefundsQuery",
    response="refunds.RefundList",
    errors=(400, 404, *COMMON_ERRORS),
)
def list_refunds(call: Call, payment_id: str) -> ApiResult:
    from chalicelib.models.refunds import RefundList
    from chalicelib.services import refunds

    data, has_more = refunds.list_refunds(call.conn, call.merchant_id, payment_id, call.query)
    return ApiResult(RefundList(data=data, has_more=has_more))


@endpoint(
    bp,
    "/api/v1/refunds/{refund_id}",
    "GET",
    summary="Retrieve a refund",
    access="read",
    response="refunds.Refund",
    errors=(404, *COMMON_ERRORS),
)
def get_refund(call: Call, refund_id: str) -> ApiResult:
    from chalicelib.services import refunds

    return ApiResult(refunds.get_refund(call.conn, call.merchant_id, refund_id))
