"""The OpenAPI document is valid 3.1 and covers every route with the models' schemas."""

from __future__ import annotations

from openapi_spec_validator import validate

import app as app_module  # noqa: F401 - registers every route
from chalicelib.api.endpoint import ROUTES
from chalicelib.api.openapi import build_document


def test_document_is_valid_openapi_3_1() -> None:
    document = build_document()
    assert document["openapi"].startswith("3.1")
    validate(document)


def test_every_route_is_documented_with_its_schemas() -> None:
    document = build_document()
    for route in ROUTES:
        operation = document["paths"][route.path][route.method.lower()]
        assert str(route.status) in operation["responses"]
        if route.body is not None:
            assert "requestBody" in operation
    schemas = document["components"]["schemas"]
    create = schemas["CreatePaymentRequest"]
    assert create["additionalProperties"] is False
    assert create["properties"]["amount"]["maximum"] == 99_999_999_999
    assert set(create["required"]) == {"order_id", "amount", "currency", "method"}
    assert "message" in schemas["PaymentCreated"]["properties"]


def test_routes_that_need_no_key_say_so() -> None:
    document = build_document()
    assert document["paths"]["/health"]["get"]["security"] == []
    assert document["paths"]["/api/v1/openapi.json"]["get"]["security"] == []
    assert document["paths"]["/api/v1/payments"]["post"]["security"] == [{"bearerAuth": []}]


def test_operations_are_named_after_their_views_and_tagged_by_module() -> None:
    """A generated client gets `api.payments.create_payment`, not a name spelled from the path."""
    document = build_document()
    operations = {
        (path, method): operation
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
    }
    assert operations[("/api/v1/payments", "post")]["operationId"] == "create_payment"
    assert operations[("/api/v1/payments", "post")]["tags"] == ["payments"]
    assert operations[("/api/v1/payments/{payment_id}/refunds", "get")]["tags"] == ["refunds"]
    ids = [operation["operationId"] for operation in operations.values()]
    assert len(ids) == len(set(ids)) == len(ROUTES)


def test_answers_require_every_field_they_always_carry() -> None:
    """Answers are rendered whole: a field with a default (`object`) is still always there,
    and a timestamp is a `date-time`. The error body alone leaves fields out."""
    schemas = build_document()["components"]["schemas"]
    assert set(schemas["Payment"]["required"]) == set(schemas["Payment"]["properties"])
    assert "object" in schemas["PaymentList"]["required"]
    assert schemas["Refund"]["properties"]["created_at"] == {
        "format": "date-time",
        "title": "Created At",
        "type": "string",
    }
    assert set(schemas["ErrorDetail"]["required"]) == {"type", "code", "message"}
