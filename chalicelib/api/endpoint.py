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
import importlib
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

from chalice import Blueprint, Response

from chalicelib import db

if TYPE_CHECKING:
    from pydantic import BaseModel

log = logging.getLogger("gateway.http")

ANY_CONTENT_TYPE = ["*/*"]
Access = Literal["read", "write", "none"]
MODELS_PACKAGE = "chalicelib.models"


def resolve_model(ref: type[BaseModel] | str | None) -> type[BaseModel] | None:
    """The class a reference names: a class as it is, or "module.Class" under
    `chalicelib.models` (its module imported on first use)."""
    if ref is None or not isinstance(ref, str):
        return ref
    module, _, name = ref.rpartition(".")
    cls: type[BaseModel] = getattr(importlib.import_module(f"{MODELS_PACKAGE}.{module}"), name)
    return cls


class RouteSpec:
    """What the OpenAPI document (and the pipeline) knows of a route.

    `response`, `body` and `query` are the model classes, resolved from the references
    the route gave on first access. (Plain classes here, not dataclasses: `dataclasses`
    imports `inspect`, a tenth of the app's import time.)"""

    def __init__(
        self,
        path: str,
        method: str,
        summary: str,
        status: int,
        response: type[BaseModel] | str | None,
        access: Access,
        body: type[BaseModel] | str | None = None,
        query: type[BaseModel] | str | None = None,
        auth: bool = True,
        errors: tuple[int, ...] = (),
        operator: bool = False,
    ) -> None:
        self.path, self.method, self.summary, self.status = path, method, summary, status
        self.access, self.auth, self.errors = access, auth, errors
        #: an operator route: operator keys only (merchant keys get 403), and the reverse
        self.operator = operator
        self._refs = {"response": response, "body": body, "query": query}
        self._resolved: dict[str, type[BaseModel] | None] = {}

    def __repr__(self) -> str:
        return f"RouteSpec({self.method} {self.path})"

    def _model(self, role: str) -> type[BaseModel] | None:
        try:
            return self._resolved[role]
        except KeyError:
            cls = self._resolved[role] = resolve_model(self._refs[role])
            return cls

    @property
    def response(self) -> type[BaseModel] | None:
        return self._model("response")

    @property
    def body(self) -> type[BaseModel] | None:
        return self._model("body")

    @property
    def query(self) -> type[BaseModel] | None:
        return self._model("query")


ROUTES: list[RouteSpec] = []


class ApiResult:
    """What a view returns: a model (or dict) to render, its status and headers."""

    __slots__ = ("body", "headers", "replay_body", "status")

    def __init__(
        self,
        body: BaseModel | dict[str, Any],
        status: int = 200,
        headers: dict[str, str] | None = None,
        replay_body: BaseModel | None = None,
    ) -> None:
        self.body, self.status, self.headers = body, status, headers or {}
        #: What a replay under the Idempotency-Key answers, when not `body` (no secrets).
        self.replay_body = replay_body


class Call:
    """The request as a view sees it."""

    __slots__ = ("body", "merchant_id", "query", "uow")

    def __init__(
        self,
        merchant_id: str,
        query: Any,
        body: BaseModel | None,
        uow: db.UnitOfWork | None = None,
    ) -> None:
        self.merchant_id, self.query, self.body, self.uow = merchant_id, query, body, uow

    @property
    def conn(self) -> db.Connection:
        """The unit of work's connection (routes with database access only)."""
        assert self.uow is not None, "this route declared access='none'"
        return self.uow.conn


View = Callable[..., ApiResult]


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
) -> Callable[[View], Callable[..., Response]]:
    """Register a route whose view gets a `Call` and the path parameters.

    Name the models ("payments.Payment"), so that registering imports none of them."""
    from chalicelib.api import pipeline

    spec = RouteSpec(
        path, method, summary, status, response, access, body, query, auth, errors, operator
    )
    ROUTES.append(spec)

    def decorate(view: View) -> Callable[..., Response]:
        @functools.wraps(view)
        def handler(**path_params: str) -> Response:
            return pipeline.handle(spec, view, bp.current_request, path_params)

        bp.route(path, methods=[method], content_types=ANY_CONTENT_TYPE)(handler)
        return handler

    return decorate
