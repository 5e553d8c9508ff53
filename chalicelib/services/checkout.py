"""The hosted checkout's rules: who may confirm a link, the payment it makes, its status.

The checkout page authenticates with the link's client secret (never an API key). A
card arrives only as a token of the acquirer's card element: the gateway asks that
acquirer what the token stands for (brand, last four digits, expiry) and charges it;
it never sees the number.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from chalicelib import db, ids, settings
from chalicelib.clock import utcnow
from chalicelib.errors import (
    AuthenticationError,
    ConflictError,
    InvalidRequestError,
    ServiceUnavailableError,
)
from chalicelib.models.payment_links import CheckoutPayment, CheckoutStatus, ConfirmRequest
from chalicelib.models.payments import CardSummary
from chalicelib.repository import payment_links as link_repo
from chalicelib.services import payment_link_secrets as link_secrets
from chalicelib.services import payment_links, payments

#: the connector whose card element the page frames and whose tokens it charges
ELEMENT_CONNECTOR = "acquirer"
#: attempts (payments) one link takes: a declined attempt frees the link for the next,
#: so without a bound a shared link checks any number of stolen cards (card testing)
MAX_LINK_ATTEMPTS = 10
_SECRET_MISSING = "Send the payment link's client secret as 'Authorization: Bearer <secret>'."  # noqa: S105  # nosec B105: a message


def card_element_origin() -> str | None:
    """The acquirer origin serving the card element, or None (the page offers UPI only)."""
    cfg = settings.get_settings()
    url = cfg.card_element_url or cfg.acquirer_urls.get(ELEMENT_CONNECTOR)
    if not url:
        return None
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def page_link(conn: db.Connection, link_id: str, lock: bool = False) -> dict[str, Any] | None:
    """The link and its merchant's name, for the page (None: no such link); `lock`
    holds it (FOR SHARE) until the transaction ends."""
    if not ids.has_prefix(link_id, ids.PAYMENT_LINK):
        return None
    row = link_repo.get_link_with_merchant(conn, link_id, lock)
    if row is not None:
        row["status"] = payment_links.link_status(row)
    return row


def authenticate(
    conn: db.Connection,
    link_id: str,
    authorization: str | None,
    address: str,
    lock: bool = False,
) -> dict[str, Any]:
    """The link, if `authorization` carries its client secret; 404 or 401 otherwise."""
    scheme, _, secret = (authorization or "").strip().partition(" ")
    secret = secret.strip()
    if scheme.lower() != "bearer" or not secret:
        raise AuthenticationError(_SECRET_MISSING, code="client_secret_missing")
    row = page_link(conn, link_id, lock)
    if row is None:
        raise payment_links.missing(link_id)
    if not link_secrets.client_secret_matches(
        secret, row["id"], row["signing_version"], row["secret_hash"]
    ):
        from chalicelib.adapters import rate_limiter

        rate_limiter.count_auth_failure(address)  # 429 past the burst
        raise AuthenticationError(
            "The client secret is not this payment link's.", code="client_secret_invalid"
        )
    return row


def _card_fields(token: str) -> dict[str, Any]:
    if card_element_origin() is None:
        raise InvalidRequestError(
            "Card payments need the acquirer's card element, which is not configured.",
            code="card_element_unavailable",
            param="token",
        )
    from chalicelib import connectors

    try:
        connector = connectors.get_connector(ELEMENT_CONNECTOR)
    except connectors.UnknownConnectorError as exc:
        raise ServiceUnavailableError("The card element's acquirer is not configured") from exc
    describe = getattr(connector, "describe_token", None)  # HTTP acquirers have it
    if describe is None:
        raise ServiceUnavailableError("The card element's acquirer cannot read its tokens")
    details = describe(token)
    if details is None:
        raise InvalidRequestError(
            "No such card token at the acquirer.", code="token_invalid", param="token"
        )
    now = utcnow()
    if (details.exp_year, details.exp_month) < (now.year, now.month):
        # as POST /payments refuses a raw expired card: before anything is charged
        raise InvalidRequestError("The card has expired", param="token")
    card = {
        "brand": details.brand,
        "last4": details.last4,
        "exp_month": details.exp_month,
        "exp_year": details.exp_year,
    }
    return {"method": "card", "card": card, "method_token": token, "vpa": None}


def confirm(
    uow: db.UnitOfWork,
    link_id: str,
    authorization: str | None,
    address: str,
    request: ConfirmRequest,
) -> CheckoutPayment:
    """One payment through the link: 409 if it is not active or a payment is under way."""
    # Locked: a deactivation cannot commit between this check and the payment's INSERT.
    link = authenticate(uow.conn, link_id, authorization, address, lock=True)
    status = link["status"]
    if status != "active":
        raise ConflictError(
            {
                "paid": "This payment link has already been paid.",
                "expired": "This payment link has expired.",
                "deactivated": "This payment link has been deactivated.",
            }[status],
            code=f"payment_link_{status}",
        )
    if link["payment_count"] >= MAX_LINK_ATTEMPTS:
        raise ConflictError(
            f"This payment link has had {MAX_LINK_ATTEMPTS} attempts, the most it takes:"
            " ask the merchant for a new link.",
            code="payment_link_attempts_exhausted",
        )
    if request.token is not None:
        method = _card_fields(request.token)
    else:
        method = {"method": "upi", "vpa": request.vpa, "card": None, "method_token": None}  # nosec B105
    payment = payments.store_payment(
        uow,
        {
            **method,
            "merchant_id": link["merchant_id"],
            "order_id": link["order_id"],
            "amount": link["amount"],
            "currency": link["currency"],
            "bank": None,
            "wallet": None,
            "description": link["description"],
            "metadata": {},
            "payment_link_id": link_id,
            "capture_method": link["capture_method"],
        },
        conflict=_link_in_use,
    )
    return CheckoutPayment(**payment.model_dump(include=set(CheckoutPayment.model_fields)))


def _link_in_use() -> ConflictError:
    return ConflictError(
        "A payment of this link (or of its order) is already under way or done.",
        code="payment_link_in_use",
    )


#: the customer's success, and the return URL's `status` for it: a payment that is
#: SUCCESS, or AUTHORIZED (a manual link's: paid by the customer, captured later)
RETURN_STATUS = {"SUCCESS": "succeeded", "AUTHORIZED": "authorized"}


def redirect_url(link: dict[str, Any], payment_id: str, status: str = "succeeded") -> str | None:
    """The return URL with the payment, its `status` (`succeeded` or `authorized`) and
    their signature (docs/api.md, "Return URL")."""
    if not link["return_url"]:
        return None
    secret = link_secrets.signing_secret(link["id"], link["signing_version"])
    if secret is None:  # its keyring version was removed: never an unsigned return
        return None
    params = {
        "payment_link_id": link["id"],
        "payment_id": payment_id,
        "status": status,
        "signature": link_secrets.return_signature(secret, link["id"], payment_id, status),
    }
    parts = urlsplit(str(link["return_url"]))
    query = f"{parts.query}&{urlencode(params)}" if parts.query else urlencode(params)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def status(
    conn: db.Connection, link_id: str, authorization: str | None, address: str
) -> CheckoutStatus:
    link = authenticate(conn, link_id, authorization, address)
    row = link_repo.latest_payment(conn, link_id)
    payment = None
    if row is not None:
        card = row["card"]
        payment = CheckoutPayment(**{**row, "card": CardSummary(**card) if card else None})
    done = RETURN_STATUS.get(payment.status) if payment is not None else None
    return CheckoutStatus(
        link_status=link["status"],
        payment=payment,
        redirect_url=redirect_url(link, payment.id, done) if done and payment else None,
    )
