"""Event log routes: list, retrieve with delivery attempts, redeliver."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.api.endpoint import ApiResult, Call, endpoint

bp = Blueprint(__name__)

COMMON_ERRORS = (401, 429, 500, 503)


@endpoint(
    bp,
    "/api/v1/events",
    "GET",
    summary="List events, newest first; filter by type",
    access="read",
    query="webhooks.ListEventsQuery",
    response="webhooks.EventList",
    errors=(400, *COMMON_ERRORS),
)
def list_events(call: Call) -> ApiResult:
    from chalicelib.models.webhooks import EventList
    from chalicelib.services import webhooks

    data, has_more = webhooks.list_events(call.conn, call.merchant_id, call.query)
    return ApiResult(EventList(data=data, has_more=has_more))


@endpoint(
    bp,
    "/api/v1/events/{event_id}",
    "GET",
    summary="Retrieve an event with every delivery attempt, oldest first",
    access="read",
    response="webhooks.EventWithDeliveries",
    errors=(404, *COMMON_ERRORS),
)
def get_event(call: Call, event_id: str) -> ApiResult:
    from chalicelib.services import webhooks

    return ApiResult(webhooks.get_event(call.conn, call.merchant_id, event_id))


@endpoint(
    bp,
    "/api/v1/events/{event_id}/redeliver",
    "POST",
    summary="One new attempt for each endpoint whose delivery failed for good",
    access="write",
    status=202,
    response="webhooks.Redelivered",
    errors=(400, 404, 413, 415, *COMMON_ERRORS),
)
def redeliver_event(call: Call, event_id: str) -> ApiResult:
    from chalicelib.models.webhooks import Redelivered
    from chalicelib.services import webhooks

    count = webhooks.redeliver_event(call.uow, call.merchant_id, event_id)
    return ApiResult(Redelivered(redelivered=count), 202)
