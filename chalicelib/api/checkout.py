"""The hosted checkout: the page of a payment link, its assets, confirm and status.

`GET /pay/{link_id}` is server-rendered HTML (the merchant's name, the amount and the
description, or a clear page for a link that is paid, expired, deactivated or
unknown) that loads `/checkout/checkout.js` and `/checkout/checkout.css`: plain files,
no build step, no CDN. Its CSP allows scripts from this origin only, frames only from
the acquirer's card element origin, and forbids being framed.

Confirm and status authenticate with the link's client secret (`Authorization:
Bearer <client secret>`), which the page reads from the link URL's fragment.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from chalice import Blueprint, Response

from chalicelib import db
from chalicelib.api.dashboard import CONTENT_TYPES, SECURITY_HEADERS, Asset
from chalicelib.api.endpoint import ApiResult, Call, endpoint

bp = Blueprint(__name__)

STATIC_DIR = Path(__file__).resolve().parent.parent / "checkout"
ASSET_NAMES = ("checkout.js", "checkout.css")
#: currencies without minor units (the others have two)
ZERO_DECIMAL = frozenset({"JPY"})
ERRORS = (401, 404, 429, 500, 503)


def csp(element_origin: str | None) -> str:
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "connect-src 'self'",
            f"frame-src {element_origin}" if element_origin else "frame-src 'none'",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        ]
    )


def format_amount(amount: int, currency: str) -> str:
    if currency in ZERO_DECIMAL:
        return f"{amount:,} {currency}"
    return f"{amount // 100:,}.{amount % 100:02d} {currency}"


_assets: dict[str, Asset] = {}


def _asset(name: str) -> Asset:
    if name not in _assets:
        import hashlib

        body = (STATIC_DIR / name).read_text(encoding="utf-8")
        etag = '"' + hashlib.sha256(body.encode()).hexdigest()[:32] + '"'
        _assets[name] = Asset(body, CONTENT_TYPES[Path(name).suffix], etag)
    return _assets[name]


UNAVAILABLE = {
    "paid": ("This link has been paid", "Thank you: the payment for this link is complete."),
    "expired": ("This link has expired", "Ask the merchant for a new payment link."),
    "deactivated": ("This link is no longer active", "Ask the merchant for a new payment link."),
    None: ("Payment link not found", "Check the address, or ask the merchant for a new link."),
}


def render_page(link: dict[str, Any] | None, element_origin: str | None) -> tuple[int, str]:
    # Imported on the first page, not with the app: `html` and `string` import `re`,
    # which nothing else on the cold start path needs.
    import html
    from string import Template

    page = Template(_asset("page.html").body)
    esc = html.escape
    if link is None or link["status"] != "active":
        state = None if link is None else link["status"]
        title, detail = UNAVAILABLE[state]
        body = f'<h1>{esc(title)}</h1>\n<p class="notice">{esc(detail)}</p>'
        if link is not None:
            body = f'<p class="merchant">{esc(link["merchant_name"])}</p>\n' + body
        return (404 if link is None else 410 if state != "paid" else 200), page.substitute(
            title=esc(title), main_attrs='data-state="unavailable"', body=body
        )
    summary = _asset("form.html").body
    body = Template(summary).substitute(
        merchant=esc(link["merchant_name"]),
        amount=esc(format_amount(link["amount"], link["currency"])),
        description=esc(link["description"] or ""),
        element_src=esc(f"{element_origin}/v1/elements/card" if element_origin else ""),
        card_hidden="" if element_origin else "hidden",
    )
    attrs = (
        f'data-state="active" data-link-id="{esc(link["id"])}"'
        f' data-element-origin="{esc(element_origin or "")}"'
    )
    title = f"Pay {link['merchant_name']}"
    return 200, page.substitute(title=esc(title), main_attrs=attrs, body=body)


@bp.route("/pay/{link_id}", methods=["GET"])
def checkout_page(link_id: str) -> Response:
    from chalicelib.services import checkout

    with db.connection() as conn:
        link = checkout.page_link(conn, link_id)
    origin = checkout.card_element_origin()
    status, body = render_page(link, origin)
    headers: dict[str, str | list[str]] = {
        **SECURITY_HEADERS,
        "Content-Security-Policy": csp(origin),
        "Content-Type": CONTENT_TYPES[".html"],
        "Cache-Control": "no-store",
    }
    return Response(body=body, status_code=status, headers=headers)


@bp.route("/checkout/{name}", methods=["GET"])
def checkout_asset(name: str) -> Response:
    if name not in ASSET_NAMES:
        return Response(
            body='{"error":{"type":"invalid_request_error","code":"resource_missing",'
            '"message":"No such checkout file."}}',
            status_code=404,
            headers={"Content-Type": "application/json", **SECURITY_HEADERS},
        )
    asset = _asset(name)
    headers: dict[str, str | list[str]] = {
        **SECURITY_HEADERS,
        "Content-Type": asset.content_type,
        "Cache-Control": "no-cache",
        "ETag": asset.etag,
    }
    if_none_match = bp.current_request.headers.get("if-none-match")
    if if_none_match and asset.etag in [t.strip() for t in if_none_match.split(",")]:
        return Response(body="", status_code=304, headers=headers)
    return Response(body=asset.body, status_code=200, headers=headers)


def _caller() -> tuple[str | None, str]:
    from chalicelib.api import auth

    request = bp.current_request
    return request.headers.get("authorization"), auth.client_address(request)


@endpoint(
    bp,
    "/pay/{link_id}/confirm",
    "POST",
    summary="Pay a payment link with a card token or a VPA (client secret auth)",
    access="write",
    status=202,
    auth=False,
    body="payment_links.ConfirmRequest",
    response="payment_links.CheckoutPayment",
    errors=(400, 409, 413, 415, *ERRORS),
)
def confirm(call: Call, link_id: str) -> ApiResult:
    from chalicelib.services import checkout

    authorization, address = _caller()
    payment = checkout.confirm(call.uow, link_id, authorization, address, call.body)
    return ApiResult(payment, 202)


@endpoint(
    bp,
    "/pay/{link_id}/status",
    "GET",
    summary="The link's state and its latest payment (client secret auth)",
    access="read",
    auth=False,
    response="payment_links.CheckoutStatus",
    errors=ERRORS,
)
def checkout_status(call: Call, link_id: str) -> ApiResult:
    from chalicelib.services import checkout

    authorization, address = _caller()
    return ApiResult(checkout.status(call.conn, link_id, authorization, address))
