"""Webhook endpoint routes: parse, call the service, render."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.api.http import ApiResult, Call, endpoint
from chalicelib.models.webhooks import (
    CreateWebhookEndpointRequest,
    ListWebhookEndpointsQuery,
    WebhookEndpointCreated,
    WebhookEndpointDeleted,
    WebhookEndpointList,
)
from chalicelib.services import webhooks

bp = Blueprint(__name__)

COMMON_ERRORS = (401, 429, 500, 503)


@endpoint(
    bp,
    "/api/v1/webhook_endpoints",
    "POST",
    summary="Register a webhook endpoint (the only answer that shows its secret)",
    status=201,
    body=CreateWebhookEndpointRequest,
    response=WebhookEndpointCreated,
    errors=(400, 413, 415, *COMMON_ERRORS),
)
def create_webhook_endpoint(call: Call) -> ApiResult:
    created = webhooks.create_endpoint(call.uow, call.merchant_id, call.body)  # type: ignore[arg-type]
    return ApiResult(created, 201)


@endpoint(
    bp,
    "/api/v1/webhook_endpoints",
    "GET",
    summary="List webhook endpoints, newest first (no secrets)",
    query=ListWebhookEndpointsQuery,
    response=WebhookEndpointList,
    errors=(400, *COMMON_ERRORS),
)
def list_webhook_endpoints(call: Call) -> ApiResult:
    data, has_more = webhooks.list_endpoints(call.merchant_id, call.query)
    return ApiResult(WebhookEndpointList(data=data, has_more=has_more))


@endpoint(
    bp,
    "/api/v1/webhook_endpoints/{endpoint_id}",
    "DELETE",
    summary="Delete a webhook endpoint; nothing more is sent to it",
    response=WebhookEndpointDeleted,
    errors=(404, *COMMON_ERRORS),
)
def delete_webhook_endpoint(call: Call, endpoint_id: str) -> ApiResult:
    return ApiResult(webhooks.delete_endpoint(call.merchant_id, endpoint_id))


@endpoint(
    bp,
    "/api/v1/webhook_endpoints/{endpoint_id}/rotate_secret",
    "POST",
    summary="A new signing secret (shown only here); the old one also signs for 24 h",
    response=WebhookEndpointCreated,
    errors=(400, 404, 413, 415, *COMMON_ERRORS),
)
def rotate_webhook_secret(call: Call, endpoint_id: str) -> ApiResult:
    rotated = webhooks.rotate_secret(call.uow, call.merchant_id, endpoint_id)  # type: ignore[arg-type]
    return ApiResult(rotated)
