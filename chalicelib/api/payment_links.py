"""Payment link routes (docs/api.md, "Payment links"): parse, call the service, render."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.api.endpoint import ApiResult, Call, endpoint

bp = Blueprint(__name__)

COMMON_ERRORS = (401, 429, 500, 503)


def base_url() -> str:
    """Where links point: CHECKOUT_BASE_URL, else this request's scheme and host."""
    from chalicelib import settings

    configured = settings.get_settings().checkout_base_url
    if configured:
        return configured.rstrip("/")
    request = bp.current_request
    headers = request.headers
    scheme = (headers.get("x-forwarded-proto") or "http").split(",")[0].strip()
    host = headers.get("host") or "localhost"
    # API Gateway's own domain serves the app under the stage's path (`/api`).
    stage = (request.context or {}).get("stage")
    prefix = f"/{stage}" if stage and host.endswith(".amazonaws.com") else ""
    return f"{scheme}://{host}{prefix}"


@endpoint(
    bp,
    "/api/v1/payment_links",
    "POST",
    summary="Create a payment link (its URL carries its client secret)",
    access="write",
    status=201,
    body="payment_links.CreatePaymentLinkRequest",
    response="payment_links.PaymentLinkCreated",
    errors=(400, 409, 413, 415, *COMMON_ERRORS),
)
def create_link(call: Call) -> ApiResult:
    from chalicelib.services import payment_links

    created, withheld = payment_links.create_link(
        call.uow,
        call.merchant_id,
        call.body,
        base_url(),
    )
    headers = {"Location": f"/api/v1/payment_links/{created.id}"}
    return ApiResult(created, 201, headers, replay_body=withheld)


@endpoint(
    bp,
    "/api/v1/payment_links",
    "GET",
    summary="List payment links, newest first",
    access="read",
    query="payment_links.ListPaymentLinksQuery",
    response="payment_links.PaymentLinkList",
    errors=(400, *COMMON_ERRORS),
)
def list_links(call: Call) -> ApiResult:
    from chalicelib.models.payment_links import PaymentLinkList
    from chalicelib.services import payment_links

    data, has_more = payment_links.list_links(call.conn, call.merchant_id, call.query, base_url())
    return ApiResult(PaymentLinkList(data=data, has_more=has_more))


@endpoint(
    bp,
    "/api/v1/payment_links/{link_id}",
    "GET",
    summary="Retrieve a payment link",
    access="read",
    response="payment_links.PaymentLink",
    errors=(404, *COMMON_ERRORS),
)
def get_link(call: Call, link_id: str) -> ApiResult:
    from chalicelib.services import payment_links

    return ApiResult(payment_links.get_link(call.conn, call.merchant_id, link_id, base_url()))


@endpoint(
    bp,
    "/api/v1/payment_links/{link_id}/deactivate",
    "POST",
    summary="Deactivate a payment link: no further payment through it",
    access="write",
    response="payment_links.PaymentLink",
    errors=(400, 404, 413, 415, *COMMON_ERRORS),
)
def deactivate_link(call: Call, link_id: str) -> ApiResult:
    from chalicelib.services import payment_links

    return ApiResult(payment_links.deactivate_link(call.uow, call.merchant_id, link_id, base_url()))
