"""The OpenAPI 3.1 document, generated from the routes and the pydantic models they use.

It states every constraint the server enforces on what a client sends (id patterns of
path parameters and cursors, the currency, the webhook URL's shape, the
Idempotency-Key), so that a schema-driven client sends only what is accepted. What a
schema cannot say (whether an id exists, whether a host resolves) is listed in
docs/api.md under "Deliberate deviations".
"""

from __future__ import annotations

import re
from typing import Any, get_args

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from chalicelib import ids
from chalicelib.api.endpoint import ROUTES, RouteSpec
from chalicelib.models.common import ErrorResponse
from chalicelib.services.idempotency import KEY_PATTERN, MAX_KEY_LENGTH

DOCS_URL = "docs/api.md"
#: The id type of each path parameter: the server answers 404 to any other shape.
PATH_PARAMETER_PREFIX = {
    "payment_id": ids.PAYMENT,
    "refund_id": ids.REFUND,
    "event_id": ids.EVENT,
    "endpoint_id": ids.WEBHOOK_ENDPOINT,
    "link_id": ids.PAYMENT_LINK,
}
#: The hosted checkout's routes authenticate with a payment link's client secret.
CHECKOUT_PATH_PREFIX = "/pay/"

_ERROR_TEXT = {
    400: "Invalid request",
    401: "Missing or invalid API key",
    403: "A valid key of the wrong kind (merchant or operator)",
    404: "No such object",
    409: "Conflict with the object's state",
    413: "Body too large",
    415: "Content-Type is not application/json",
    429: "Rate limited",
    500: "Internal error",
    503: "A dependency is unavailable",
}
_REF = "#/components/schemas/{model}"


def _schemas() -> tuple[dict[tuple[Any, JsonSchemaMode], Any], dict[str, Any]]:
    models: list[tuple[type[BaseModel], JsonSchemaMode]] = [(ErrorResponse, "serialization")]
    for route in ROUTES:
        if route.body is not None:
            models.append((route.body, "validation"))
        if route.response is not None:
            models.append((route.response, "serialization"))
    unique = list(dict.fromkeys(models))
    refs, defs = models_json_schema(unique, ref_template=_REF)
    return refs, defs.get("$defs", {})


def _shared_enums() -> dict[tuple[str, ...], str]:
    """The Literal types that several schemas use, and each one's name in the document.

    pydantic writes a Literal inline wherever it appears; named once, they give a
    generated client one `PaymentStatus` for the payment, its history and the list
    filter, instead of a class per place."""
    from chalicelib.models import operations, payments, refunds, webhooks

    named = {
        "PaymentMethod": payments.PaymentMethod,
        "PaymentStatus": payments.PaymentStatus,
        "RefundStatus": refunds.RefundStatus,
        "EventType": webhooks.EventType,
        "WebhookEndpointStatus": webhooks.EndpointStatus,
        "DeliveryAttemptStatus": webhooks.AttemptStatus,
        "CheckState": operations.CheckState,
    }
    return {get_args(literal): name for name, literal in named.items()}


def _name_enums(node: Any, enums: dict[tuple[str, ...], str]) -> Any:
    """`node` with each inline enum of `enums` replaced by a reference to its schema."""
    if isinstance(node, list):
        return [_name_enums(item, enums) for item in node]
    if not isinstance(node, dict):
        return node
    name = enums.get(tuple(node.get("enum", ())))
    if name is not None:
        kept = {k: v for k, v in node.items() if k not in ("enum", "type", "title")}
        return {"$ref": _REF.format(model=name), **kept}
    return {key: _name_enums(value, enums) for key, value in node.items()}


def _query_parameters(route: RouteSpec) -> list[dict[str, Any]]:
    if route.query is None:
        return []
    schema = route.query.model_json_schema(ref_template=_REF)
    params = []
    for name, prop in schema.get("properties", {}).items():
        params.append({"name": name, "in": "query", "required": False, "schema": prop})
    return params


def _path_parameter(name: str) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    prefix = PATH_PARAMETER_PREFIX.get(name)
    if prefix is not None:
        schema["pattern"] = ids.id_pattern(prefix)
    return {"name": name, "in": "path", "required": True, "schema": schema}


def build_document() -> dict[str, Any]:
    """The whole document (every route registered through `endpoint`)."""
    refs, defs = _schemas()
    paths: dict[str, Any] = {}
    error_ref = refs[(ErrorResponse, "serialization")]
    for route in ROUTES:
        operation: dict[str, Any] = {
            "summary": route.summary,
            "operationId": route.operation_id,
            "tags": [route.tag],
            "responses": {},
        }
        parameters = [_path_parameter(name) for name in re.findall(r"{(\w+)}", route.path)]
        parameters += _query_parameters(route)
        if route.method == "POST" and not route.path.startswith(CHECKOUT_PATH_PREFIX):
            parameters.append(
                {
                    "name": "Idempotency-Key",
                    "in": "header",
                    "required": False,
                    "schema": {
                        "type": "string",
                        "minLength": 1,
                        "maxLength": MAX_KEY_LENGTH,
                        "pattern": KEY_PATTERN,
                    },
                }
            )
        if parameters:
            operation["parameters"] = parameters
        if route.body is not None:
            operation["requestBody"] = {
                "required": (
                    route.body.model_fields
                    and any(f.is_required() for f in route.body.model_fields.values())
                )
                or getattr(route.body, "BODY_REQUIRED", False),
                "content": {"application/json": {"schema": refs[(route.body, "validation")]}},
            }
        if route.response is not None:
            for status in (route.status, *route.also):
                operation["responses"][str(status)] = {
                    "description": "Accepted" if status == 202 else "OK",
                    "content": {
                        "application/json": {"schema": refs[(route.response, "serialization")]}
                    },
                }
        for status in route.errors:
            operation["responses"][str(status)] = {
                "description": _ERROR_TEXT.get(status, "Error"),
                "content": {"application/json": {"schema": error_ref}},
            }
        if route.auth:
            scheme = "operatorKey" if route.operator else "bearerAuth"
            operation["security"] = [{scheme: []}]
        elif route.path.startswith(CHECKOUT_PATH_PREFIX):
            operation["security"] = [{"linkClientSecret": []}]
        else:
            operation["security"] = []
        paths.setdefault(route.path, {})[route.method.lower()] = operation
    enums = _shared_enums()
    paths, defs = _name_enums(paths, enums), _name_enums(defs, enums)
    for values, name in enums.items():
        defs[name] = {"enum": list(values), "title": name, "type": "string"}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Payment gateway",
            "version": "1.0.0",
            "description": (
                "Asynchronous payment gateway API. The reference, with every rule, error"
                f" code, status transition and the test-mode table, is {DOCS_URL} in the"
                " repository."
            ),
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": defs,
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer"},
                "operatorKey": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An operator key (ok_test_...), never a merchant key",
                },
                "linkClientSecret": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A payment link's client secret (plcs_...), never an API key",
                },
            },
        },
    }
