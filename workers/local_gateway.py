"""Chalice's local API Gateway, with the caller's address and a route table built once.

The app receives the event Chalice's `LocalGateway` builds (the shape API Gateway
gives a Lambda), with two differences:
- `requestContext.identity.sourceIp` is the caller's address, as on API Gateway
  (Chalice's says 127.0.0.1 for everyone; auth's per-address limit of failed keys
  reads it);
- the route is matched against a table split once per app, not by parsing the URL
  and splitting every route's path on each request (measured: ~10 µs of each accept).
  The match is Chalice's: same order (concrete routes before captures), same trailing
  slash rule, same query parsing; `pathParameters` hold the matched route's captures
  only, as API Gateway's do (Chalice's own matcher also kept those of routes it tried
  first under the same name);
- the Lambda context's settings are read from the config once, not per request.
"""

from __future__ import annotations

import functools
import threading
import uuid
from typing import Any
from urllib.parse import parse_qs, urlparse

from chalice import local

_peer = threading.local()

#: A route's parts: (capture name, None) for `{name}`, (None, literal) otherwise.
type RoutePattern = tuple[tuple[str | None, str | None], ...]


def set_peer_address(address: str) -> None:
    """The address of the caller whose request this thread is about to handle."""
    _peer.address = address


class RouteTable(local.RouteMatcher):
    """Chalice's `RouteMatcher` with each route's parts split once, grouped by length."""

    def __init__(self, route_urls: list[str]) -> None:
        super().__init__(route_urls)  # sorted: concrete parts before captures
        self._by_length: dict[int, list[tuple[str, RoutePattern]]] = {}
        for route_url in self.route_urls:
            pattern = tuple(
                (part[1:-1], None) if part.startswith("{") and part.endswith("}") else (None, part)
                for part in route_url.split("/")
            )
            self._by_length.setdefault(len(pattern), []).append((route_url, pattern))
        #: Routes without captures that Chalice matches to themselves: found by one lookup.
        chalice_match = super().match_route
        self._exact = frozenset(
            route_url
            for route_url in self.route_urls
            if "{" not in route_url and chalice_match(route_url).route == route_url
        )

    def match_route(self, url: str) -> local.MatchResult:
        # A target that `urlparse` would change beyond its path has a query, a fragment,
        # `;params` or a `//netloc`; any other target is its own path.
        plain = url.startswith("/") and not url.startswith("//")
        if plain and "?" not in url and "#" not in url and ";" not in url:
            if url in self._exact:
                return local.MatchResult(url, {}, {})
            path, query_params = url, {}
        else:
            parsed = urlparse(url)
            path = parsed.path
            query_params = parse_qs(parsed.query, keep_blank_values=True)
        if path != "/" and path.endswith("/"):
            path = path[:-1]
        parts = path.split("/")
        for route_url, pattern in self._by_length.get(len(parts), ()):
            captured: dict[str, str] = {}
            for part, (name, literal) in zip(parts, pattern, strict=True):
                if name is not None:
                    captured[name] = part
                elif part != literal:
                    break
            else:
                return local.MatchResult(route_url, captured, query_params)
        raise ValueError(f"No matching route found for: {url}")


@functools.cache
def route_table(app: Any) -> RouteTable:
    """One table per app (the handler, and so the gateway, is made per connection)."""
    return RouteTable(list(app.routes))


class GatewayEventConverter(local.LambdaEventConverter):
    """Chalice's event, with the caller's address as `sourceIp`."""

    def create_lambda_event(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        event = super().create_lambda_event(*args, **kwargs)
        address = getattr(_peer, "address", None)
        if address:
            event["requestContext"]["identity"]["sourceIp"] = address
        return event


class GatewayLocalGateway(local.LocalGateway):
    """Chalice's `LocalGateway` with `GatewayEventConverter` over the app's `RouteTable`, and
    the Lambda context's settings read from the config once (each read walks the config's
    chain of stage and function settings: ~30 µs of every request, measured)."""

    def __init__(self, app_object: Any, config: Any) -> None:
        super().__init__(app_object, config)
        self.event_converter = GatewayEventConverter(
            route_table(app_object), self._app_object.api.binary_types
        )
        self._context_settings = lambda_context_settings(config)
        self._authorized_routes = routes_with_authorizers(app_object)

    def handle_request(
        self, method: str, path: str, headers: dict[str, Any], body: bytes | None
    ) -> dict[str, Any]:
        """Chalice's, without its authorizer's lookups when no route has an authorizer.
        An OPTIONS request, a route Chalice refuses (403) and an app with authorizers
        take Chalice's own path."""
        if method == "OPTIONS" or self._authorized_routes:
            return super().handle_request(method, path, headers, body)
        context = self._generate_lambda_context()
        try:
            event = self.event_converter.create_lambda_event(method, path, headers, body)
        except ValueError:
            return super().handle_request(method, path, headers, body)  # raises its 403
        return self._app_object(event, context)

    def _generate_lambda_context(self) -> local.LambdaContext:
        return RequestContext(*self._context_settings)


class RequestContext(local.LambdaContext):
    """Chalice's Lambda context, with its `aws_request_id` drawn when first read.

    Chalice draws a uuid4 for every request (a getrandom call and ~4 µs), which only
    its own 403 and authorizer answers read; the app reads `requestContext.requestId`.
    Every other attribute is set as Chalice's `__init__` sets it.
    """

    def __init__(self, function_name: str, memory_size: int, max_runtime_ms: int) -> None:
        self._time_source = _CLOCK
        self._start_time = self._current_time_millis()
        self._max_runtime = max_runtime_ms
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = ""
        self.memory_limit_in_mb = memory_size
        self.log_group_name = ""
        self.log_stream_name = ""
        self.identity = None
        self.client_context = None

    def __getattr__(self, name: str) -> Any:
        if name != "aws_request_id":
            raise AttributeError(name)
        self.aws_request_id = str(uuid.uuid4())
        return self.aws_request_id


_CLOCK = local.Clock()


@functools.cache
def routes_with_authorizers(app: Any) -> frozenset[str]:
    """The routes some method of which has an authorizer (Chalice runs it locally)."""
    return frozenset(
        path for path, methods in app.routes.items() if any(e.authorizer for e in methods.values())
    )


@functools.cache
def lambda_context_settings(config: Any) -> tuple[str, int, int]:
    """What Chalice's LocalGateway reads from the config for every request's context."""
    timeout_s = config.lambda_timeout
    if timeout_s is None:
        timeout_s = local.LocalGateway.MAX_LAMBDA_EXECUTION_TIME
    return config.function_name, config.lambda_memory_size, timeout_s * 1000
