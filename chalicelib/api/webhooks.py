"""Webhook endpoint routes: parse, call the service, render."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.api.endpoint import ApiResult, Call, endpoint

bp = Blueprint(__name__)

COMMON_ERRORS = (401, 429, 500, 503)


@endpoint(
    bp,
    "/api/v1/webhook_endpoints",
    "POST",
    summary="Register a webhook endpoint (the only answer that shows its secret)",
    access="write",
    status=201,
    body="webhooks.CreateWebhookEndpointRequest",
    response="webhooks.WebhookEndpointCreated",
    errors=(400, 413, 415, *COMMON_ERRORS),
)
def create_webhook_endpoint(call: Call) -> ApiResult:
    from chalicelib.services import webhooks

    created = webhooks.create_endpoint(call.uow, call.merchant_id, call.body)
    return ApiResult(created, 201, replay_body=webhooks.withheld(created))


@endpoint(
    bp,
    "/api/v1/webhook_endpoints/{endpoint_id}/rotate_secret",
    "POST",
    summary="Rotate the signing secret; the old one signs beside it for 24 h",
    access="write",
    response="webhooks.WebhookEndpointCreated",
    errors=(400, 404, 413, 415, *COMMON_ERRORS),
)
def rotate_webhook_secret(call: Call, endpoint_id: str) -> ApiResult:
    from chalicelib.services import webhooks

    rotated = webhooks.rotate_secret(call.uow, call.merchant_id, endpoint_id)
    return ApiResult(rotated, 200, replay_body=webhooks.withheld(rotated))


@endpoint(
    bp,
    "/api/v1/webhook_endpoints",
    "GET",
    summary="List webhook endpoints, newest first (no secrets)",
    access="read",
    query="webhooks.ListWebhookEndpointsQuery",
    response="webhooks.WebhookEndpointList",
    errors=(400, *COMMON_ERRORS),
)
def list_webhook_endpoints(call: Call) -> ApiResult:
    from chalicelib.models.webhooks import WebhookEndpointList
    from chalicelib.services import webhooks

    data, has_more = webhooks.list_endpoints(call.conn, call.merchant_id, call.query)
    return ApiResult(WebhookEndpointList(data=data, has_more=has_more))


@endpoint(
    bp,
    "/api/v1/webhook_endpoints/{endpoint_id}",
    "GET",
    summary="Retrieve a webhook endpoint (no secret)",
    access="read",
    response="webhooks.WebhookEndpoint",
    errors=(404, *COMMON_ERRORS),
)
def get_webhook_endpoint(call: Call, endpoint_id: str) -> ApiResult:
    from chalicelib.services import webhooks

    return ApiResult(webhooks.get_endpoint(call.conn, call.merchant_id, endpoint_id))


@endpoint(
    bp,
    "/api/v1/webhook_endpoints/{endpoint_id}",
    "DELETE",
    summary="Delete a webhook endpoint; nothing more is sent to it",
    access="write",
    response="webhooks.WebhookEndpointDeleted",
    errors=(404, *COMMON_ERRORS),
)
def delete_webhook_endpoint(call: Call, endpoint_id: str) -> ApiResult:
    from chalicelib.services import webhooks

    return ApiResult(webhooks.delete_endpoint(call.uow, call.merchant_id, endpoint_id))
