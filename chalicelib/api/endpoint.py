"""The route registry: `endpoint` registers a Chalice route and records it for OpenAPI.

A view receives a `Call` (the merchant, the validated query and body, and the
unit of work that the pipeline opened for it) and the path parameters, and
returns an `ApiResult`. Every route declares its database access:
  "write" — one transaction around the view (and the idempotency record of a POST);
  "read"  — one pooled connection in autocommit mode;
  "none"  — no database (the OpenAPI document).

Models are named, not imported: `body="payments.CreatePaymentRequest"` is the class
`CreatePaymentRequest` of `chalicelib.models.payments`, imported when a request or the
OpenAPI document first needs it. A view imports its service and models in its body.
So importing the app (every Lambda's cold start) imports neither pydantic nor a model:
that is about half of the import time (docs/deploy.md, "Cold start").
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from chalice import Blueprint, Response

from chalicelib.api.route_types import (
    ROUTES,
    Access,
    ApiResult,
    Call,
    RouteSpec,
    View,
    resolve_model,
)

# The route types are re-exported: routes import them here.
__all__ = [
    "ANY_CONTENT_TYPE",
    "ROUTES",
    "Access",
    "ApiResult",
    "Call",
    "RouteSpec",
    "View",
    "endpoint",
    "resolve_model",
]

if TYPE_CHECKING:
    from pydantic import BaseModel

log = logging.getLogger("gateway.http")

ANY_CONTENT_TYPE = ["*/*"]


def endpoint(
    bp: Blueprint,
    path: str,
    method: str,
    *,
    summary: str,
    response: type[BaseModel] | str | None,
    access: Access,
    status: int = 200,
    body: type[BaseModel] | str | None = None,
    query: type[BaseModel] | str | None = None,
    auth: bool = True,
    errors: tuple[int, ...] = (),
    operator: bool = False,
    also: tuple[int, ...] = (),
) -> Callable[[View], Callable[..., Response]]:
    """Register a route whose view gets a `Call` and the path parameters.

    Name the models ("payments.Payment"), so that registering imports none of them."""
    from chalicelib.api import pipeline

    spec = RouteSpec(
        path, method, summary, status, response, access, body, query, auth, errors, operator, also
    )
    ROUTES.append(spec)

    def decorate(view: View) -> Callable[..., Response]:
        spec.operation_id, spec.tag = view.__name__, view.__module__.rpartition(".")[2]

        @functools.wraps(view)
        def handler(**path_params: str) -> Response:
            return pipeline.handle(spec, view, bp.current_request, path_params)

        bp.route(path, methods=[method], content_types=ANY_CONTENT_TYPE)(handler)
        return handler

    return decorate
