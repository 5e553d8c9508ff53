"""The HTTP edge shared by every route: authentication, bodies, idempotency, rendering.

`endpoint` registers a Chalice route and wraps the view so that it receives the
authenticated merchant and a validated pydantic body. It also records the route
for the OpenAPI document. `http_middleware` gives every answer a request id, logs
one JSON line per request, and turns every exception (and Chalice's own error
answers) into API.md's error body.
"""

from __future__ import annotations

import functools
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from chalice import Blueprint, Response
from pydantic import BaseModel, ValidationError

from chalicelib import db
from chalicelib.api import operator_auth
from chalicelib.errors import (
    BodyTooLargeError,
    GatewayError,
    InvalidJsonError,
    MethodNotAllowedError,
    ParameterUnknownError,
    ResourceMissingError,
    UnsupportedMediaTypeError,
    error_body,
)
from chalicelib.models.common import raise_validation_error
from chalicelib.services import idempotency, rate_limit

log = logging.getLogger("gateway.http")

MAX_BODY_BYTES = 16_384
ANY_CONTENT_TYPE = ["*/*"]
REQUEST_ID_HEADER = "Request-Id"
JSON_HEADERS = {"Content-Type": "application/json"}


@dataclass
class RouteSpec:
    """What the OpenAPI document says of a route."""

    path: str
    method: str
    summary: str
    status: int
    response: type[BaseModel] | None
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    auth: bool = True
    errors: tuple[int, ...] = ()
    operator: bool = False


ROUTES: list[RouteSpec] = []


@dataclass
class ApiResult:
    """What a view returns: a model (or dict) to render, its status and headers."""

    body: BaseModel | dict[str, Any]
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Call:
    """The request as a view sees it."""

    merchant_id: str
    query: Any
    body: BaseModel | None
    uow: db.UnitOfWork | None = None


_state = threading.local()


def _log_fields() -> dict[str, Any]:
    fields = getattr(_state, "fields", None)
    if fields is None:
        fields = {}
        _state.fields = fields
    return fields


def render(result: ApiResult) -> tuple[int, bytes, dict[str, str]]:
    if isinstance(result.body, BaseModel):
        payload = result.body.model_dump_json().encode()
    else:
        payload = json.dumps(result.body, separators=(",", ":")).encode()
    return result.status, payload, {**JSON_HEADERS, **result.headers}


def _response(status: int, payload: bytes, headers: dict[str, str]) -> Response:
    return Response(body=payload.decode(), status_code=status, headers=headers)


def _reject_constant(name: str) -> Any:
    raise ValueError(name)


def parse_json_body(request: Any, required_object: bool = True) -> Any:
    """The body as parsed JSON; `{}` when there is none. 413, 415 and 400 as API.md says."""
    raw = request.raw_body or b""
    if len(raw) > MAX_BODY_BYTES:
        raise BodyTooLargeError(f"Request bodies are limited to {MAX_BODY_BYTES} bytes.")
    content_type = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    if not raw.strip():
        if content_type and content_type != "application/json":
            raise UnsupportedMediaTypeError("Content-Type must be application/json.")
        return {}
    if content_type != "application/json":
        raise UnsupportedMediaTypeError("Content-Type must be application/json.")
    try:
        body = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidJsonError("The request body is not valid JSON.") from exc
    if required_object and not isinstance(body, dict):
        raise InvalidJsonError("The request body must be a JSON object.")
    return body


def validate(model: type[BaseModel], data: Any) -> BaseModel:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise_validation_error(exc)
        raise  # unreachable: raise_validation_error always raises


def endpoint(
    bp: Blueprint,
    path: str,
    method: str,
    *,
    summary: str,
    response: type[BaseModel] | None,
    status: int = 200,
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    auth: bool = True,
    errors: tuple[int, ...] = (),
    operator: bool = False,
) -> Callable[[Callable[..., ApiResult]], Callable[..., Response]]:
    """Register a route whose view gets a `Call` and the path parameters.

    POST bodies are validated with `body`, and the view runs in one unit of work
    together with the idempotency record.
    """
    spec = RouteSpec(path, method, summary, status, response, body, query, auth, errors, operator)
    ROUTES.append(spec)

    def decorate(view: Callable[..., ApiResult]) -> Callable[..., Response]:
        @functools.wraps(view)
        def handler(**path_params: str) -> Response:
            # Chalice turns view exceptions into its own 500 before middleware sees
            # them, so errors are mapped here, through the one mapping function.
            try:
                return serve(bp.current_request, path_params)
            except GatewayError as exc:
                return _error_response(exc)
            except Exception as exc:
                log.exception("unhandled error in %s %s", method, path)
                return _error_response(exc)

        def serve(request: Any, path_params: dict[str, str]) -> Response:
            principal = None
            if auth:
                principal = operator_auth.authenticate(
                    request.headers.get("authorization"), operator=operator
                )
                _log_fields()["merchant_id"] = principal.merchant_id
                rate_limit.check(principal.key_hash)
            raw_query: Any = dict(request.query_params or {})
            if query is not None:
                raw_query = validate(query, raw_query)
            elif raw_query:
                name = next(iter(raw_query))
                raise ParameterUnknownError(f"Received unknown parameter: {name}", param=name)
            merchant_id = principal.merchant_id if principal else ""
            if method != "POST":
                call = Call(merchant_id, raw_query, None)
                return _response(*render(view(call, **path_params)))
            data = parse_json_body(request)
            key = idempotency.validate_key(request.headers.get("idempotency-key"))
            if operator:  # records are per merchant; operator POSTs are idempotent by nature
                key = None
            parsed = validate(body, data) if body is not None else None
            if parsed is None and data:
                name = next(iter(data))
                raise ParameterUnknownError(f"Received unknown parameter: {name}", param=name)
            return _run_post(
                view,
                path_params,
                merchant_id,
                raw_query,
                parsed,
                data,
                key,
                _concrete_path(request),
            )

        bp.route(path, methods=[method], content_types=ANY_CONTENT_TYPE)(handler)
        return handler

    return decorate


def _concrete_path(request: Any) -> str:
    return request.context.get("path") or request.path


def _run_post(
    view: Callable[..., ApiResult],
    path_params: dict[str, str],
    merchant_id: str,
    query: dict[str, str],
    parsed: BaseModel | None,
    data: Any,
    key: str | None,
    path: str,
) -> Response:
    fingerprint = idempotency.request_fingerprint("POST", path, data) if key else ""
    with db.unit_of_work() as uow:
        if key is not None:
            stored = idempotency.begin(uow.conn, merchant_id, key, fingerprint)
            if stored is not None:
                _log_fields()["idempotent_replay"] = True
                headers = {**JSON_HEADERS, **stored.headers, "Idempotent-Replayed": "true"}
                return _response(stored.status, stored.body, headers)
        # Any error raised here rolls the whole unit back, idempotency record included:
        # nothing was created, so the key stays free for a retry.
        result = view(Call(merchant_id, query, parsed, uow), **path_params)
        status, payload, headers = render(result)
        if key is not None:
            stored_headers = {k: v for k, v in headers.items() if k != "Content-Type"}
            idempotency.record(
                uow.conn,
                merchant_id,
                key,
                fingerprint,
                idempotency.StoredResponse(status, payload, stored_headers),
            )
    return _response(status, payload, headers)


# --------------------------------------------------------------------------- middleware
def _chalice_error(response: Response) -> GatewayError | None:
    """Chalice answers some errors itself ({"Code", "Message"}); map them to the contract."""
    body = response.body
    if response.status_code < 400 or not isinstance(body, dict) or "Code" not in body:
        return None
    code = body.get("Code")
    if response.status_code == 405 or code == "MethodNotAllowedError":
        return MethodNotAllowedError(
            "This method is not allowed on this path.",
            headers={k: v for k, v in response.headers.items() if k.lower() == "allow"},
        )
    if response.status_code == 415:
        return UnsupportedMediaTypeError("Content-Type must be application/json.")
    if response.status_code == 400:
        return InvalidJsonError("The request body is not valid JSON.")
    if response.status_code == 404:
        return ResourceMissingError("No such route.")
    return None


def _error_response(exc: BaseException) -> Response:
    status, body, headers = error_body(exc)
    return Response(
        body=json.dumps(body, separators=(",", ":")),
        status_code=status,
        headers={**JSON_HEADERS, **headers},
    )


def http_middleware(event: Any, get_response: Callable[[Any], Response]) -> Response:
    """Request id, one JSON log line, and the contract's error body for every failure."""
    started = time.perf_counter()
    context = getattr(event, "context", None) or {}
    request_id = context.get("requestId") or f"req_{uuid.uuid4().hex}"
    _state.fields = {}
    try:
        response = get_response(event)
        mapped = _chalice_error(response)
        if mapped is not None:
            response = _error_response(mapped)
    except GatewayError as exc:
        response = _error_response(exc)
    except Exception:
        log.exception("unhandled error", extra={"request_id": request_id})
        response = _error_response(RuntimeError())
    response.headers[REQUEST_ID_HEADER] = request_id
    fields = _log_fields()
    log.info(
        "request",
        extra={
            "request_id": request_id,
            "method": getattr(event, "method", None),
            "path": context.get("path") or getattr(event, "path", None),
            "status": response.status_code,
            "duration_ms": round((time.perf_counter() - started) * 1000, 2),
            "merchant_id": fields.get("merchant_id"),
            **({"idempotent_replay": True} if fields.get("idempotent_replay") else {}),
        },
    )
    _state.fields = {}
    return response
