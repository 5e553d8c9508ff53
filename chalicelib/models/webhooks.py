"""Webhook endpoint and event models (docs/api.md, Webhooks)."""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

from pydantic import Field, StrictStr, field_validator

from chalicelib.errors import InvalidRequestError
from chalicelib.ids import EVENT, WEBHOOK_ENDPOINT, id_pattern
from chalicelib.models.common import ListEnvelope, ListQuery, RequestModel, ResponseModel, Timestamp

EventType = Literal[
    "payment.authorized",
    "payment.captured",
    "payment.succeeded",
    "payment.failed",
    "payment.cancelled",
    "payment.charge_reversed",
    "refund.succeeded",
    "refund.failed",
]
EVENT_TYPES: tuple[str, ...] = get_args(EventType)
EndpointStatus = Literal["enabled", "disabled"]
AttemptStatus = Literal["succeeded", "failed", "pending"]

# The shape adapters/url_guard.py accepts, stated in the OpenAPI document only: the guard
# itself gives the reasons. Hosts are DNS names or IPv4 literals; a port is 0-65535.
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_PORT = r"0*(?:[0-9]{1,4}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])"
URL_PATTERN = (
    rf"^[Hh][Tt][Tt][Pp][Ss]?://{_LABEL}(?:\.{_LABEL})*\.?(?::(?:{_PORT})?)?"
    r"(?:[/?][^\x00-\x20\x7f#]*)?$"
)


class CreateWebhookEndpointRequest(RequestModel):
    """POST /api/v1/webhook_endpoints."""

    url: Annotated[
        StrictStr,
        Field(
            min_length=1,
            max_length=2048,
            description="http(s), a host, no credentials or fragment; the host must resolve"
            " (to a public address outside the local and test stages)",
            json_schema_extra={"pattern": URL_PATTERN},
        ),
    ]
    events: list[EventType] | None = Field(
        default=None,
        description="Event types to receive; all of them when omitted",
        json_schema_extra={"minItems": 1},
    )

    @field_validator("events", mode="before")
    @classmethod
    def _known_events(cls, value: Any) -> Any:
        # Checked before pydantic's own validation so that every problem is `param: events`.
        if value is None:
            return None
        if not isinstance(value, list):
            raise InvalidRequestError("events must be a list of event types", param="events")
        if not value:
            raise InvalidRequestError("events must name at least one event type", param="events")
        for name in value:
            if not isinstance(name, str) or name not in EVENT_TYPES:
                raise InvalidRequestError(
                    f"Unknown event type {str(name)[:64]!r}; known: {', '.join(EVENT_TYPES)}",
                    param="events",
                )
        return list(dict.fromkeys(value))  # duplicates collapse, order kept


class WebhookEndpoint(ResponseModel):
    id: str
    object: Literal["webhook_endpoint"] = "webhook_endpoint"
    url: str
    events: list[EventType]
    status: EndpointStatus
    created_at: Timestamp


class WebhookEndpointCreated(WebhookEndpoint):
    """The only answers that carry the signing secret: creation and rotation."""

    secret: str | None = Field(
        description="whsec_<base64>; shown once. null in a replay under the Idempotency-Key"
    )
    secret_withheld: bool = Field(
        default=False,
        description="true when this is a replay: the secret is never stored, so it is not shown",
    )


class WebhookEndpointDeleted(WebhookEndpoint):
    """DELETE answers the object, now disabled, with `deleted: true` (as Stripe does)."""

    deleted: Literal[True] = True


class WebhookEndpointList(ListEnvelope):
    data: list[WebhookEndpoint]


class ListWebhookEndpointsQuery(ListQuery):
    """Query string of GET /api/v1/webhook_endpoints."""

    starting_after: Annotated[str | None, Field(pattern=id_pattern(WEBHOOK_ENDPOINT))] = None


class Event(ResponseModel):
    id: str
    object: Literal["event"] = "event"
    type: EventType
    # A snapshot, kept as it was written: an event from before a field was added to the
    # payment or refund lacks it, so the document does not bind `data` to today's schemas
    # (a generated client would then fail to read older events).
    data: Annotated[
        dict[str, Any],
        Field(
            description="The payment (payment.* events) or refund (refund.* events) as the"
            " API rendered it when the event happened: fields added since are absent"
        ),
    ]
    created_at: Timestamp


class DeliveryAttempt(ResponseModel):
    """One attempt at delivering an event to an endpoint (or the next one, when pending)."""

    endpoint_id: str
    attempt: int
    status: AttemptStatus
    response_status: int | None
    error: str | None
    duration_ms: int | None
    at: Timestamp


class EventWithDeliveries(Event):
    deliveries: list[DeliveryAttempt]


class EventList(ListEnvelope):
    data: list[Event]


class ListEventsQuery(ListQuery):
    starting_after: Annotated[str | None, Field(pattern=id_pattern(EVENT))] = None
    type: EventType | None = None


class Redelivered(ResponseModel):
    redelivered: int
