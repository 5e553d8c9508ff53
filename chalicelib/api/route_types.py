"""The types a route and the request pipeline share: the route's spec, what a view
receives (`Call`) and returns (`ApiResult`). Their own module, so that the registry
(`endpoint.py`) and the pipeline (`pipeline.py`) import it and not each other."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

from chalicelib import db

if TYPE_CHECKING:
    from pydantic import BaseModel

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
        also: tuple[int, ...] = (),
    ) -> None:
        self.path, self.method, self.summary, self.status = path, method, summary, status
        #: other success statuses, with the same response body
        self.also = also
        self.access, self.auth, self.errors = access, auth, errors
        #: an operator route: operator keys only (merchant keys get 403), and the reverse
        self.operator = operator
        #: the view's name and its module's (`create_payment`, "payments"): the document's
        #: operationId and tag, so a generated client has `api.payments.create_payment`
        self.operation_id, self.tag = "", ""
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

    __slots__ = ("_uow", "body", "merchant_id", "query")

    def __init__(
        self,
        merchant_id: str,
        query: Any,
        body: Any,
        uow: db.UnitOfWork | None = None,
    ) -> None:
        # query and body are instances of the models the route declared (or None), which
        # the pipeline validated: the route knows their classes, the type checker cannot.
        self.merchant_id, self.query, self.body, self._uow = merchant_id, query, body, uow

    @property
    def uow(self) -> db.UnitOfWork:
        """The unit of work the pipeline opened (routes with database access only)."""
        assert self._uow is not None, "this route declared access='none'"
        return self._uow

    @property
    def conn(self) -> db.Connection:
        """The unit of work's connection (routes with database access only)."""
        return self.uow.conn


View = Callable[..., ApiResult]
