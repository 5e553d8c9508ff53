"""The request pipeline: one request from Chalice's event to the contract's answer.

  unit of work — opened as the route declared ("read", "write", "none");
  auth         — the API key and its rate limit (`api.auth`);
  parse        — query parameters, then a POST's JSON body, validated by pydantic;
  idempotency  — a POST runs through `api.idempotent` in the route's transaction;
  render       — the model as JSON; every exception through the one error mapping.
`http_middleware` gives every answer a request id and logs one JSON line per request.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable
from contextlib import nullcontext
from typing import TYPE_CHECKING, Any

from chalice import Response

from chalicelib import db
from chalicelib.api import request_json
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

if TYPE_CHECKING:
    from pydantic import BaseModel

    from chalicelib.api import idempotent
    from chalicelib.api.route_types import ApiResult, RouteSpec, View

log = logging.getLogger("gateway.http")

MAX_BODY_BYTES = 16_384
REQUEST_ID_HEADER = "Request-Id"
JSON_HEADERS = {"Content-Type": "application/json"}

_state = threading.local()


def _log_fields() -> dict[str, Any]:
    fields = getattr(_state, "fields", None)
    if fields is None:
        fields = {}
        _state.fields = fields
    return fields


def handle(spec: RouteSpec, view: View, request: Any, path_params: dict[str, str]) -> Response:
    """Serve one request. Chalice turns view exceptions into its own 500 before the
    middleware sees them, so errors are mapped here, through the one mapping function."""
    try:
        return _serve(spec, view, request, path_params)
    except GatewayError as exc:
        return error_response(exc)
    except Exception as exc:
        log.exception("unhandled error in %s %s", spec.method, spec.path)
        return error_response(exc)


def _serve(spec: RouteSpec, view: View, request: Any, path_params: dict[str, str]) -> Response:
    # Imported by the first request, not with the app (hashlib, hmac, dataclasses...).
    from chalicelib.api import auth, idempotent
    from chalicelib.api.route_types import Call
    from chalicelib.services import idempotency

    writes = spec.access == "write"
    unit = nullcontext(None) if spec.access == "none" else db.unit_of_work(writes, pipelined=writes)
    # merchant, key, fingerprint of a keyed POST
    claimed: tuple[str, str, idempotency.Fingerprint] | None = None
    try:
        with unit as uow:
            merchant_id = ""
            if spec.auth:
                assert uow is not None, "authenticated routes need database access"
                merchant_id = auth.authenticate(request, uow.conn, spec.operator).merchant_id
                _log_fields()["merchant_id"] = merchant_id
            query = _query(spec, request)
            if spec.method != "POST":
                rendered = render(view(Call(merchant_id, query, None, uow), **path_params))
            else:
                assert uow is not None and uow.writes, "a POST route must declare access='write'"
                data = parse_json_body(request)
                key = idempotency.validate_key(request.headers.get("idempotency-key"))
                if spec.operator or not spec.auth:  # records are per merchant; operator
                    key = None  # POSTs are idempotent, and no merchant's key checks out
                body = validate(spec.body, data) if spec.body is not None else None
                if body is None and data:
                    name = next(iter(data))
                    raise ParameterUnknownError(f"Received unknown parameter: {name}", param=name)
                fingerprint = None
                if key is not None:
                    path = request.context.get("path") or request.path
                    fingerprint = idempotency.request_fingerprint(
                        "POST", path, body if body is not None else data
                    )
                    claimed = (merchant_id, key, fingerprint)
                rendered = idempotent.run_once(
                    uow,
                    merchant_id,
                    key,
                    fingerprint,
                    lambda: render_with_replay(
                        view(Call(merchant_id, query, body, uow), **path_params)
                    ),
                )
    except Exception as exc:
        # A refused idempotency claim surfaces here once its transaction has ended.
        if claimed is None or idempotency.refusal(exc) is None:
            raise
        rendered = idempotent.answer_refused(exc, *claimed)
        _log_fields()["idempotent_replay"] = True
    status, payload, headers = rendered
    return Response(body=payload.decode(), status_code=status, headers={**JSON_HEADERS, **headers})


def _query(spec: RouteSpec, request: Any) -> Any:
    raw_query: Any = dict(request.query_params or {})
    if spec.query is not None:
        return validate(spec.query, raw_query)
    if raw_query:
        name = next(iter(raw_query))
        raise ParameterUnknownError(f"Received unknown parameter: {name}", param=name)
    return raw_query


def render(result: ApiResult) -> idempotent.Rendered:
    """The answer's status, body and headers. A JSON body ends with a newline, so a shell
    prompt after `curl` starts on its own line."""
    if isinstance(result.body, dict):
        payload = json.dumps(result.body, separators=(",", ":")).encode() + b"\n"
    else:  # a model (pydantic is imported on first use, never with the app)
        payload = result.body.model_dump_json().encode() + b"\n"
    return result.status, payload, {**JSON_HEADERS, **result.headers}


def render_with_replay(result: ApiResult) -> tuple[idempotent.Rendered, bytes | None]:
    """The answer, and the body to store for replays when it differs (a secret withheld)."""
    replay = result.replay_body.model_dump_json().encode() + b"\n" if result.replay_body else None
    return render(result), replay


def parse_json_body(request: Any, required_object: bool = True) -> Any:
    """The body as parsed JSON; `{}` when there is none. 413, 415 and 400 as docs/api.md says."""
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
    body = request_json.loads(raw)  # depth, NUL and huge numbers: 400, never 500
    if required_object and not isinstance(body, dict):
        raise InvalidJsonError("The request body must be a JSON object.")
    return body


def validate(model: type[BaseModel], data: Any) -> BaseModel:
    from pydantic import ValidationError

    from chalicelib.models.common import raise_validation_error

    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise_validation_error(exc)
        raise  # unreachable: raise_validation_error always raises


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
            headers={
                k: v if isinstance(v, str) else ", ".join(v)
                for k, v in response.headers.items()
                if k.lower() == "allow"
            },
        )
    if response.status_code == 415:
        return UnsupportedMediaTypeError("Content-Type must be application/json.")
    if response.status_code == 400:
        return InvalidJsonError("The request body is not valid JSON.")
    if response.status_code == 404:
        return ResourceMissingError("No such route.")
    return None


def error_response(exc: BaseException) -> Response:
    status, body, headers = error_body(exc)
    return Response(
        body=json.dumps(body, separators=(",", ":")) + "\n",
        status_code=status,
        headers={**JSON_HEADERS, **headers},
    )


def http_middleware(event: Any, get_response: Callable[[Any], Response]) -> Response:
    """Request id, one JSON log line, and the contract's error body for every failure."""
    started = time.perf_counter()
    context = getattr(event, "context", None) or {}
    request_id = context.get("requestId") or f"req_{os.urandom(16).hex()}"
    _state.fields = {}
    try:
        response = get_response(event)
        mapped = _chalice_error(response)
        if mapped is not None:
            response = error_response(mapped)
    except GatewayError as exc:
        response = error_response(exc)
    except Exception:
        log.exception("unhandled error", extra={"request_id": request_id})
        response = error_response(RuntimeError())
    response.headers[REQUEST_ID_HEADER] = request_id
    if log.isEnabledFor(logging.INFO):  # the line's fields are not gathered for nothing
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
