"""The route registry: `endpoint` registers a Chalice route and records it for OpenAPI.

A view receives a `Call` (the merchant, the validated query and body, and the
unit of work that the pipeline opened for it) and the path parameters, and
returns an `ApiResult`. Every route declares its database access:
  "write" — one transaction around the view (and the idempotency record of a POST);
  "read"  — one pooled connection in autocommit mode;
  "none"  — no database (the OpenAPI document).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from chalice import Blueprint, Response
from pydantic import BaseModel

from chalicelib import db

log = logging.getLogger("gateway.http")

ANY_CONTENT_TYPE = ["*/*"]
Access = Literal["read", "write", "none"]


@dataclass
class RouteSpec:
    """What the OpenAPI document (and the pipeline) knows of a route."""

    path: str
    method: str
    summary: str
    status: int
    response: type[BaseModel] | None
    access: Access
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    auth: bool = True
    errors: tuple[int, ...] = ()
    #: an operator route: operator keys only (merchant keys get 403), and the reverse
    operator: bool = False


ROUTES: list[RouteSpec] = []


@dataclass
class ApiResult:
    """What a view returns: a model (or dict) to render, its status and headers."""

    body: BaseModel | dict[str, Any]
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    #: What a replay under the Idempotency-Key answers, when not `body` (no secrets).
    replay_body: BaseModel | None = None


@dataclass
class Call:
    """The request as a view sees it."""

    merchant_id: str
    query: Any
    body: BaseModel | None
    uow: db.UnitOfWork | None = None

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
    response: type[BaseModel] | None,
    access: Access,
    status: int = 200,
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    auth: bool = True,
    errors: tuple[int, ...] = (),
    operator: bool = False,
) -> Callable[[View], Callable[..., Response]]:
    """Register a route whose view gets a `Call` and the path parameters."""
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
