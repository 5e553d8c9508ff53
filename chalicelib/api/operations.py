"""Operational routes: the index, health and the OpenAPI document (no authentication)."""

from __future__ import annotations

import json
from typing import Any

from chalice import Blueprint, Response

from chalicelib.adapters import health
from chalicelib.api.endpoint import ApiResult, Call, endpoint

bp = Blueprint(__name__)


@endpoint(
    bp,
    "/",
    "GET",
    summary="Where to start: the dashboard, the API, its document and health",
    access="none",
    response="operations.Index",
    auth=False,
)
def get_index(call: Call) -> ApiResult:
    from chalicelib.models.operations import Index

    return ApiResult(Index())


@endpoint(
    bp,
    "/health",
    "GET",
    summary="Health of the gateway and its dependencies",
    access="none",
    response="operations.Health",
    auth=False,
    errors=(503,),
)
def get_health(call: Call) -> ApiResult:
    from chalicelib.models.operations import Health, HealthChecks

    checks = health.check()
    ok = all(v == "ok" for v in checks.values())
    return ApiResult(
        Health(status="ok" if ok else "unavailable", checks=HealthChecks(**checks)),
        200 if ok else 503,
    )


_document: str | None = None


@endpoint(
    bp,
    "/api/v1/openapi.json",
    "GET",
    summary="This OpenAPI document",
    access="none",
    response="operations.OpenApiDocument",
    auth=False,
)
def get_openapi(call: Call) -> ApiResult:
    global _document
    if _document is None:
        from chalicelib.api.openapi import build_document

        _document = json.dumps(build_document())
    body: dict[str, Any] = json.loads(_document)
    return ApiResult(body)


__all__ = ["Response", "bp"]
