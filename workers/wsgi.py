"""The Chalice app as a WSGI callable, for an established HTTP server (granian).

Each request becomes the API Gateway REST (v1) proxy event that Chalice's
`LocalGateway` builds for `chalice local` and `chalice.test.Client`, and the answer
is Chalice's. Three things differ from `chalice local`:
- `app.current_request` is per thread (Chalice's `LocalChalice`, as `chalice local`
  does), so concurrent requests never see each other's body (Chalice issue 759);
- `requestContext.identity.sourceIp` is the caller's address, as on API Gateway: the
  peer's, or, when the peer is one of `TRUSTED_PROXIES`, the last address of
  `X-Forwarded-For` outside them;
- a body over the contract's limit is refused (413) before a byte of it is read;
- a path no route matches keeps API Gateway's 403, in the contract's format: Chalice's
  own body echoes the Authorization header, that is, the API key.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import quote

from chalice import local

from chalicelib.api.pipeline import MAX_BODY_BYTES
from chalicelib.errors import BodyTooLargeError, error_body

type StartResponse = Callable[[str, list[tuple[str, str]]], Any]
type Network = ipaddress.IPv4Network | ipaddress.IPv6Network

_caller = threading.local()
_NO_ROUTE = (
    json.dumps(
        {
            "error": {
                "type": "invalid_request_error",
                "code": "resource_missing",
                "message": "No route matches this method and path.",
            }
        }
    )
    + "\n"
)  # every JSON answer ends with a newline (docs/api.md)
_PATH_SAFE = "/:@!$&'()*+,;=-._~"
_STATUS_LINES = {status.value: f"{status.value} {status.phrase}" for status in HTTPStatus}


class _EventConverter(local.LambdaEventConverter):
    """Chalice's event, with the caller's address as `sourceIp`."""

    def create_lambda_event(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        event = super().create_lambda_event(*args, **kwargs)
        event["requestContext"]["identity"]["sourceIp"] = _caller.address
        return event


class _IndexedRouteMatcher(local.RouteMatcher):
    """Chalice's matcher, with each route that has no parameters found in a dict.

    Chalice tries its routes one by one (~11 µs a request for our 30). Only a target
    that Chalice itself matches to the very same route is indexed, so the answer is
    always Chalice's."""

    def __init__(self, route_urls: list[str]) -> None:
        super().__init__(route_urls)
        self._exact = {
            url
            for url in self.route_urls
            if "{" not in url and super().match_route(url).route == url
        }

    def match_route(self, url: str) -> local.MatchResult:
        if url in self._exact:
            return local.MatchResult(url, {}, {})  # new dicts: Chalice's event keeps them
        return super().match_route(url)


@dataclass(frozen=True)
class _LambdaSettings:
    """The stage's settings that `LocalGateway` reads for each request's context, read
    once: each read walks Chalice's config chain (~8 µs a request)."""

    function_name: str
    lambda_memory_size: int | None
    lambda_timeout: int | None


class ChaliceWSGI:
    """A WSGI application that serves `app` through Chalice's `LocalGateway`."""

    def __init__(self, app: Any, config: Any, trusted_proxies: Sequence[str] = ()) -> None:
        if not isinstance(app, local.LocalChalice):  # current_request per thread
            app.__class__ = type("ThreadLocalChalice", (local.LocalChalice, type(app)), {})
        settings = _LambdaSettings(
            config.function_name, config.lambda_memory_size, config.lambda_timeout
        )
        self._gateway = local.LocalGateway(app, settings)
        self._gateway.event_converter = _EventConverter(
            _IndexedRouteMatcher(list(app.routes)), app.api.binary_types
        )
        self._trusted: tuple[Network, ...] = tuple(
            ipaddress.ip_network(proxy, strict=False) for proxy in trusted_proxies
        )

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method = environ["REQUEST_METHOD"]
        headers = {
            key[5:].replace("_", "-").lower(): value
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            if environ.get(key):
                headers[key.replace("_", "-").lower()] = environ[key]
        # The server has refused a malformed Content-Length; chunked bodies have none.
        length = int(environ.get("CONTENT_LENGTH") or 0)
        if length > MAX_BODY_BYTES:
            return _refuse(start_response, method)
        body: bytes | None = environ["wsgi.input"].read(length or MAX_BODY_BYTES + 1)
        if body is not None and len(body) > MAX_BODY_BYTES:
            return _refuse(start_response, method)
        _caller.address = self.source_ip(environ.get("REMOTE_ADDR", ""), headers)
        try:
            response = self._gateway.handle_request(method, _target(environ), headers, body or None)
        except local.LocalGatewayException as exc:  # Chalice's 403 for an unknown route
            response = {"statusCode": exc.CODE, "headers": {}, "body": _NO_ROUTE}
        return _respond(start_response, method, response)

    def source_ip(self, peer: str, headers: dict[str, str]) -> str:
        """The peer, or the last X-Forwarded-For address before the trusted proxies."""
        forwarded = headers.get("x-forwarded-for")
        if not forwarded or not self._is_trusted(peer):
            return peer
        for hop in reversed([part.strip() for part in forwarded.split(",")]):
            if not self._is_trusted(hop):
                try:
                    return str(ipaddress.ip_address(hop))
                except ValueError:
                    return peer  # a forged or garbled hop: believe only the proxy
        return peer

    def _is_trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self._trusted)


def _target(environ: dict[str, Any]) -> str:
    """The request target as sent: `RAW_URI` where the server keeps it."""
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw:
        return str(raw)
    path = quote(environ.get("PATH_INFO") or "/", safe=_PATH_SAFE)
    query = environ.get("QUERY_STRING")
    return f"{path}?{query}" if query else path


def _refuse(start_response: StartResponse, method: str) -> Iterable[bytes]:
    error = BodyTooLargeError(f"Request bodies are limited to {MAX_BODY_BYTES} bytes.")
    status, body, headers = error_body(error)
    payload = json.dumps(body).encode() + b"\n"
    response = {"statusCode": status, "headers": headers, "body": payload}
    return _respond(start_response, method, response)


def _respond(start_response: StartResponse, method: str, response: dict) -> Iterable[bytes]:
    """Chalice's answer as WSGI: its headers, multi-value headers and decoded body."""
    body = response.get("body")
    if response.get("isBase64Encoded") and body is not None:
        body = base64.b64decode(body)
    payload = body.encode() if isinstance(body, str) else (body or b"")
    headers: list[tuple[str, str]] = []
    for name, value in (response.get("headers") or {}).items():
        headers.append((name, str(value)))
    for name, values in (response.get("multiValueHeaders") or {}).items():
        headers += [(name, str(value)) for value in values]
    names = {name.lower() for name, _ in headers}
    if body is not None and "content-type" not in names:
        headers.append(("Content-Type", "application/json"))
    headers.append(("Content-Length", str(len(payload))))
    code = response["statusCode"]
    start_response(_STATUS_LINES.get(code) or str(code), headers)
    return [b""] if method == "HEAD" else [payload]
