"""Webhook rules: endpoints (register, list, delete), the event log, redelivery.

Delivery itself (the scheduled handler) lives in `handlers.deliver_webhooks`.
The signing secret is returned once, by `create_endpoint`, and never logged.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, overload

from psycopg.types.json import Jsonb

from chalicelib import db, ids
from chalicelib.clock import utcnow
from chalicelib.errors import InvalidRequestError, ResourceMissingError
from chalicelib.models.webhooks import (
    EVENT_TYPES,
    CreateWebhookEndpointRequest,
    DeliveryAttempt,
    Event,
    EventWithDeliveries,
    ListEventsQuery,
    ListWebhookEndpointsQuery,
    WebhookEndpoint,
    WebhookEndpointCreated,
    WebhookEndpointDeleted,
)
from chalicelib.repository import webhook_secrets as secret_repo
from chalicelib.repository import webhooks as webhook_repo
from chalicelib.services.pagination import page

#: After a rotation the old secret signs beside the new one this long.
ROTATION_OVERLAP = timedelta(hours=24)


def _endpoint_missing(endpoint_id: str) -> ResourceMissingError:
    return ResourceMissingError(f"No such webhook endpoint: '{endpoint_id}'", param="id")


def _event_missing(event_id: str) -> ResourceMissingError:
    return ResourceMissingError(f"No such event: '{event_id}'", param="id")


@overload
def endpoint_from_row(row: dict[str, Any]) -> WebhookEndpoint: ...
@overload
def endpoint_from_row[M: WebhookEndpoint](
    row: dict[str, Any], model: type[M], **extra: Any
) -> M: ...
def endpoint_from_row(
    row: dict[str, Any], model: type[WebhookEndpoint] = WebhookEndpoint, **extra: Any
) -> WebhookEndpoint:
    """The API's endpoint object from a row; the secret only when passed in `extra`."""
    return model(
        id=row["id"],
        url=row["url"],
        events=row["events"],
        status=row["status"],
        created_at=row["created_at"],
        **extra,
    )


def event_from_row(row: dict[str, Any]) -> Event:
    return Event(id=row["id"], type=row["type"], data=row["data"], created_at=row["created_at"])


def create_endpoint(
    uow: db.UnitOfWork, merchant_id: str, request: CreateWebhookEndpointRequest
) -> WebhookEndpointCreated:
    """Register an endpoint after the SSRF check; the answer is the only one with the secret."""
    # lazy: the guard brings ipaddress and socket, needed only when an endpoint is registered
    from chalicelib.adapters.url_guard import UnsafeUrlError, check_url, normalise_url

    try:
        url = normalise_url(request.url)  # stored as it will be sent
        checked = check_url(url, allow_private=_allow_private_hosts())
    except UnsafeUrlError as exc:
        raise InvalidRequestError(str(exc), param="url") from exc
    # lazy: the sender brings http.client and ssl, which the API path never needs
    from chalicelib.adapters.webhook_sender import new_secret

    endpoint_id = ids.new_id(ids.WEBHOOK_ENDPOINT)
    secret = new_secret()
    row = webhook_repo.insert_endpoint(
        uow.conn,
        {
            "id": endpoint_id,
            "merchant_id": merchant_id,
            "url": checked.url,
            "events": list(request.events or EVENT_TYPES),
            "secret_sealed": Jsonb(_seal(secret, merchant_id, endpoint_id)),
            "now": utcnow(),
        },
    )
    return endpoint_from_row(row, WebhookEndpointCreated, secret=secret)


def withheld(created: WebhookEndpointCreated) -> WebhookEndpointCreated:
    """What a replay answers: the same object without its secret, saying so."""
    # nosec B105: the secret is being removed (None), not set to a literal
    return created.model_copy(update={"secret": None, "secret_withheld": True})  # nosec B105


def rotate_secret(uow: db.UnitOfWork, merchant_id: str, endpoint_id: str) -> WebhookEndpointCreated:
    """A new secret, shown once; the old one keeps signing beside it for ROTATION_OVERLAP."""
    if not ids.has_prefix(endpoint_id, ids.WEBHOOK_ENDPOINT):
        raise _endpoint_missing(endpoint_id)
    current = secret_repo.lock_live_endpoint_for_merchant(uow.conn, endpoint_id, merchant_id)
    if current is None:
        raise _endpoint_missing(endpoint_id)
    previous = current["secret_sealed"]
    if previous is None:  # made before 0008: sealed now, never kept in the clear
        previous = _seal(current["secret"], merchant_id, endpoint_id)
    from chalicelib.adapters.webhook_sender import new_secret  # lazy, as in create_endpoint

    secret = new_secret()
    row = secret_repo.rotate_secret(
        uow.conn,
        {
            "id": endpoint_id,
            "secret_sealed": Jsonb(_seal(secret, merchant_id, endpoint_id)),
            "previous_sealed": Jsonb(previous),
            "previous_until": utcnow() + ROTATION_OVERLAP,
        },
    )
    return endpoint_from_row(row, WebhookEndpointCreated, secret=secret)


def seal_plaintext_secrets(uow: db.UnitOfWork, limit: int = 500) -> int:
    """Seal up to `limit` secrets of endpoints made before 0008; how many were sealed."""
    rows = secret_repo.list_plaintext_secrets(uow.conn, limit)
    for row in rows:
        box = _seal(row["secret"], row["merchant_id"], row["id"])
        secret_repo.seal_secret(uow.conn, row["id"], Jsonb(box))
    return len(rows)


def _seal(secret: str, merchant_id: str, endpoint_id: str) -> dict[str, Any]:
    from chalicelib.adapters import kms  # lazy: boto3 only when a secret is made

    return kms.seal(secret.encode(), kms.context_for(merchant_id, endpoint_id))


def list_endpoints(
    conn: db.Connection, merchant_id: str, query: ListWebhookEndpointsQuery
) -> tuple[list[WebhookEndpoint], bool]:
    """A page of the merchant's live endpoints, newest first, and whether more follow."""
    return page(
        query.starting_after,
        query.limit,
        "webhook endpoint",
        lambda cursor_id: webhook_repo.get_live_endpoint_cursor_for_merchant(
            conn, cursor_id, merchant_id
        ),
        lambda after, n: webhook_repo.list_live_endpoints_for_merchant(
            conn, merchant_id, limit=n, after=after
        ),
        endpoint_from_row,
    )


def get_endpoint(conn: db.Connection, merchant_id: str, endpoint_id: str) -> WebhookEndpoint:
    """One of the merchant's live endpoints (no secret); deleted or unknown: 404."""
    if not ids.has_prefix(endpoint_id, ids.WEBHOOK_ENDPOINT):
        raise _endpoint_missing(endpoint_id)
    row = webhook_repo.get_live_endpoint_for_merchant(conn, endpoint_id, merchant_id)
    if row is None:
        raise _endpoint_missing(endpoint_id)
    return endpoint_from_row(row)


def delete_endpoint(
    uow: db.UnitOfWork, merchant_id: str, endpoint_id: str
) -> WebhookEndpointDeleted:
    """Soft delete: disabled, no new deliveries, pending retries stop. Deleted twice: 404."""
    if not ids.has_prefix(endpoint_id, ids.WEBHOOK_ENDPOINT):
        raise _endpoint_missing(endpoint_id)
    row = webhook_repo.soft_delete_endpoint_for_merchant(
        uow.conn, endpoint_id, merchant_id, utcnow()
    )
    if row is None:
        raise _endpoint_missing(endpoint_id)
    return endpoint_from_row(row, WebhookEndpointDeleted)


def list_events(
    conn: db.Connection, merchant_id: str, query: ListEventsQuery
) -> tuple[list[Event], bool]:
    """A page of the merchant's events, newest first, optionally of one type."""
    return page(
        query.starting_after,
        query.limit,
        "event",
        lambda cursor_id: webhook_repo.get_event_cursor_for_merchant(conn, cursor_id, merchant_id),
        lambda after, n: webhook_repo.list_events_for_merchant(
            conn, merchant_id, limit=n, after=after, event_type=query.type
        ),
        event_from_row,
    )


def get_event(conn: db.Connection, merchant_id: str, event_id: str) -> EventWithDeliveries:
    """The event and every delivery attempt, oldest first (pending ones last)."""
    if not ids.has_prefix(event_id, ids.EVENT):
        raise _event_missing(event_id)
    row = webhook_repo.get_event_for_merchant(conn, event_id, merchant_id)
    if row is None:
        raise _event_missing(event_id)
    attempts = webhook_repo.list_attempts_for_event(conn, event_id)
    return EventWithDeliveries(
        **event_from_row(row).model_dump(exclude={"object"}),
        deliveries=[
            DeliveryAttempt(
                endpoint_id=a["endpoint_id"],
                attempt=a["attempt"],
                status=a["status"],
                response_status=a["response_status"],
                error=a["error"],
                duration_ms=a["duration_ms"],
                at=a["at"],
            )
            for a in attempts
        ],
    )


def redeliver_event(uow: db.UnitOfWork, merchant_id: str, event_id: str) -> int:
    """One new attempt, due now, for each live endpoint whose delivery failed for good.

    Deliveries still being retried keep their schedule; succeeded ones are not sent again.
    """
    if not ids.has_prefix(event_id, ids.EVENT):
        raise _event_missing(event_id)
    if webhook_repo.get_event_for_merchant(uow.conn, event_id, merchant_id) is None:
        raise _event_missing(event_id)
    return webhook_repo.redeliver_failed_for_event(uow.conn, event_id, utcnow())


def _allow_private_hosts() -> bool:
    from chalicelib import settings  # lazy: pydantic is slow to import

    return settings.get_settings().webhook_allow_private_hosts
