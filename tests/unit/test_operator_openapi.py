"""The operator routes in the OpenAPI document: their own security scheme and 403."""

from __future__ import annotations

import app  # noqa: F401  (registers every route)
from chalicelib.api.openapi import build_document

OPERATOR_PATHS = {
    "/api/v1/operator/queue": "get",
    "/api/v1/operator/throughput": "get",
    "/api/v1/operator/merchants": "get",
    "/api/v1/operator/dead_letters": "get",
    "/api/v1/operator/dead_letters/replay": "post",
}


def test_operator_routes_are_documented_with_the_operator_key() -> None:
    document = build_document()
    for path, method in OPERATOR_PATHS.items():
        operation = document["paths"][path][method]
        assert operation["security"] == [{"operatorKey": []}], path
        assert "403" in operation["responses"] and "401" in operation["responses"], path
    assert document["paths"]["/api/v1/payments"]["get"]["security"] == [{"bearerAuth": []}]
    assert "operatorKey" in document["components"]["securitySchemes"]


def test_the_dashboard_is_not_an_api_route() -> None:
    assert not [p for p in build_document()["paths"] if p.startswith("/dashboard")]
