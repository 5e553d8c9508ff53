"""Payment link rules: create, read, list, deactivate (docs/api.md, "Payment links").

A link asks for one payment. Each attempt through its checkout page is an ordinary
payment of the merchant under the link's `order_id` (the link's id when none was
given) and with the link's `capture_method`, so the one-active-payment-per-order rule
admits one PENDING, PROCESSING, AUTHORIZED or SUCCESS attempt at a time, and none
after one was authorized or succeeded: a link is paid once. A manual link whose
authorization is then voided is closed (`deactivated`), never payable again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib import db, ids
from chalicelib.clock import utcnow
from chalicelib.errors import ConflictError, ResourceMissingError
from chalicelib.models.payment_links import (
    CreatePaymentLinkRequest,
    LinkStatus,
    ListPaymentLinksQuery,
    PaymentLink,
    PaymentLinkCreated,
)
from chalicelib.repository import payment_links as link_repo
from chalicelib.repository import payments as payment_repo
from chalicelib.services import payment_link_secrets as link_secrets
from chalicelib.services.pagination import page


def missing(link_id: str) -> ResourceMissingError:
    return ResourceMissingError(f"No such payment link: '{link_id}'", param="id")


def link_status(row: dict[str, Any], now: datetime | None = None) -> LinkStatus:
    """paid (a payment AUTHORIZED or SUCCESS), then deactivated (by the merchant, or its
    authorization voided), then expired; otherwise active."""
    if row["payment_id"] is not None:
        return "paid"
    if row["deactivated_at"] is not None or row["authorization_voided"]:
        return "deactivated"
    if row["expires_at"] is not None and row["expires_at"] <= (now or utcnow()):
        return "expired"
    return "active"


def page_url(base_url: str, link_id: str) -> str:
    return f"{base_url.rstrip('/')}/pay/{link_id}"


def link_url(row: dict[str, Any], base_url: str, status: LinkStatus) -> str:
    """The page, with the client secret in the fragment while the link can be paid
    (and its keyring version is still there)."""
    url = page_url(base_url, row["id"])
    secret = link_secrets.client_secret(row["id"], row["signing_version"])
    return f"{url}#{secret}" if status == "active" and secret else url


def link_from_row(row: dict[str, Any], base_url: str) -> PaymentLink:
    status = link_status(row)
    return PaymentLink(
        id=row["id"],
        url=link_url(row, base_url, status),
        active=status == "active",
        status=status,
        amount=row["amount"],
        currency=row["currency"],
        description=row["description"],
        order_id=row["order_id"],
        capture_method=row["capture_method"],
        return_url=row["return_url"],
        expires_at=row["expires_at"],
        payment_id=row["payment_id"],
        payment_count=row["payment_count"],
        return_signing_secret=link_secrets.signing_secret(row["id"], row["signing_version"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def create_link(
    uow: db.UnitOfWork, merchant_id: str, request: CreatePaymentLinkRequest, base_url: str
) -> tuple[PaymentLinkCreated, PaymentLinkCreated]:
    """The new link with its client secret, and the same without either secret (the
    idempotency record keeps none: a replay's reader gets them with GET)."""
    if request.order_id is not None:
        active = payment_repo.find_active_id_by_merchant_id_order_id(
            uow.conn, merchant_id, request.order_id
        )
        if active is not None:  # the link could never be paid
            raise ConflictError(
                f"Order '{request.order_id}' already has an active payment.",
                code="order_has_active_payment",
                param="order_id",
                extra={"payment_id": active},
            )
    link_id = ids.new_id(ids.PAYMENT_LINK)
    link_repo.insert_link(
        uow.conn,
        {
            "id": link_id,
            "merchant_id": merchant_id,
            "amount": request.amount,
            "currency": request.currency,
            "description": request.description,
            "order_id": request.order_id or link_id,
            "return_url": request.return_url,
            "expires_at": request.expires_at,
            "capture_method": request.capture_method,
            "signing_version": link_secrets.signing_version(),
            "now": utcnow(),
        },
    )
    row = link_repo.get_link(uow.conn, link_id)
    assert row is not None  # inserted above, same transaction
    link = link_from_row(row, base_url)
    secret = link_secrets.client_secret(link_id, row["signing_version"])
    created = PaymentLinkCreated(**link.model_dump(), client_secret=secret)
    no_secrets = {
        "url": page_url(base_url, link_id),
        **dict.fromkeys(("client_secret", "return_signing_secret")),
    }
    withheld = PaymentLinkCreated(**{**link.model_dump(), **no_secrets})
    return created, withheld


def get_link(conn: db.Connection, merchant_id: str, link_id: str, base_url: str) -> PaymentLink:
    if not ids.has_prefix(link_id, ids.PAYMENT_LINK):
        raise missing(link_id)
    row = link_repo.get_link(conn, link_id)
    if row is None or row["merchant_id"] != merchant_id:
        raise missing(link_id)
    return link_from_row(row, base_url)


def list_links(
    conn: db.Connection, merchant_id: str, query: ListPaymentLinksQuery, base_url: str
) -> tuple[list[PaymentLink], bool]:
    return page(
        query.starting_after,
        query.limit,
        "payment link",
        lambda cursor_id: link_repo.get_cursor_for_merchant(conn, cursor_id, merchant_id),
        lambda after, n: link_repo.list_links_for_merchant(conn, merchant_id, limit=n, after=after),
        lambda row: link_from_row(row, base_url),
    )


def deactivate_link(
    uow: db.UnitOfWork, merchant_id: str, link_id: str, base_url: str
) -> PaymentLink:
    """No further payment through the link (idempotent; a payment under way goes on)."""
    if not ids.has_prefix(link_id, ids.PAYMENT_LINK):
        raise missing(link_id)
    if not link_repo.deactivate(uow.conn, link_id, merchant_id, utcnow()):
        raise missing(link_id)
    return get_link(uow.conn, merchant_id, link_id, base_url)
