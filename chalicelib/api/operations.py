"""Operational routes: health and the OpenAPI document (no authentication)."""

from __future__ import annotations

import json
from typing import Any, Literal

from chalice import Blueprint, Response

from chalicelib.adapters import health
from chalicelib.api.endpoint import ApiResult, Call, endpoint
from chalicelib.models.common import ResponseModel

bp = Blueprint(__name__)

CheckState = Literal["ok", "unavailable"]


class HealthChecks(ResponseModel):
    postgres: CheckState
    redis: CheckState


class Health(ResponseModel):
    status: Literal["ok", "unavailable"]
    checks: HealthChecks


class OpenApiDocument(ResponseModel):
    model_config = {"extra": "allow"}
    openapi: str


@endpoint(
    bp,
    "/health",
    "GET",
    summary="Health of the gateway and its dependencies",
    access="none",
    response=Health,
    auth=False,
    errors=(503,),
)
def get_health(call: Call) -> ApiResult:
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
    response=OpenApiDocument,
    auth=False,
)
def get_openapi(call: Call) -> ApiResult:
    global _document
    if _document is None:
        from chalicelib.openapi import build_document

        _document = json.dumps(build_document())
    body: dict[str, Any] = json.loads(_document)
    return ApiResult(body)


__all__ = ["Response", "bp"]
