"""Models of the operational routes: health and the OpenAPI document."""

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


class OpenApiDocument(ResponseModel):
    model_config = {"extra": "allow"}
    openapi: str
