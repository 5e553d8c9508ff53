"""Models of the operational routes: the index, health and the OpenAPI document."""

from __future__ import annotations

from typing import Literal

from chalicelib.models.common import ResponseModel

CheckState = Literal["ok", "unavailable"]


class HealthChecks(ResponseModel):
    postgres: CheckState
    redis: CheckState


class Health(ResponseModel):
    status: Literal["ok", "unavailable"]
    checks: HealthChecks


class Index(ResponseModel):
    """`GET /`: where to go from the server's root."""

    object: Literal["index"] = "index"
    name: Literal["payment-gateway"] = "payment-gateway"
    dashboard: Literal["/dashboard"] = "/dashboard"
    api: Literal["/api/v1"] = "/api/v1"
    openapi: Literal["/api/v1/openapi.json"] = "/api/v1/openapi.json"
    health: Literal["/health"] = "/health"


class OpenApiDocument(ResponseModel):
    model_config = {"extra": "allow"}
    openapi: str
