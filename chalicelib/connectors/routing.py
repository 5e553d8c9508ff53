"""Routing: which connector a payment's next attempt goes to, and circuit breakers.

A merchant names up to two connectors, primary first (`merchants.connectors`;
none: the stage's `CONNECTORS`). A fresh attempt goes to the first connector whose
breaker is closed; if every breaker is open, to the primary (an open breaker means
"expect failures", and the retry policy deals with them).

A breaker opens for `BREAKER_COOLDOWN_S` once, within the current and the previous
window of `BREAKER_WINDOW_S`, at least `BREAKER_MIN_CALLS` calls were made and at
least `BREAKER_ERROR_RATE` of them failed (unknown outcomes: timeouts, resets,
5xx; and certain errors: connection refused). Declines are answers, not failures.
Breaker state lives in Redis, shared by every handler; if it is lost, the next
calls simply go to the primary again. Redis errors make routing fall back to the
primary rather than stop the drain.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from chalicelib import db, settings
from chalicelib import redis_keys as keys

log = logging.getLogger(__name__)

_MERCHANT_CONFIG_TTL_S = 5.0
_config_lock = threading.Lock()
_merchant_config: tuple[float, dict[str, list[str]]] = (0.0, {})


def merchant_connectors(conn: db.Connection) -> dict[str, list[str]]:
    """Merchants that name their connectors (cached for a few seconds per process)."""
    global _merchant_config
    loaded_at, config = _merchant_config
    if time.monotonic() - loaded_at < _MERCHANT_CONFIG_TTL_S:
        return config
    from chalicelib.repository import merchants as merchant_repo

    config = merchant_repo.list_connector_choices(conn)
    with _config_lock:
        _merchant_config = (time.monotonic(), config)
    return config


def configured() -> set[str]:
    """Every connector name this deployment can call."""
    from chalicelib import connectors

    cfg = settings.get_settings()
    return {connectors.SIMULATOR, *cfg.connectors, *cfg.acquirer_urls, *connectors.registered()}


def set_merchant_connectors(conn: db.Connection, merchant_id: str, names: list[str]) -> None:
    """Name a merchant's connectors, primary first (one or two, each configured here)."""
    from chalicelib.errors import InvalidRequestError, ResourceMissingError
    from chalicelib.repository import merchants as merchant_repo

    unknown = [n for n in names if n not in configured()]
    if not 1 <= len(names) <= 2 or len(set(names)) != len(names) or unknown:
        raise InvalidRequestError(
            f"Name one or two distinct connectors of {sorted(configured())}"
            + (f"; unknown: {unknown}" if unknown else ""),
            param="connectors",
        )
    if not merchant_repo.set_connectors(conn, merchant_id, names):
        raise ResourceMissingError(f"No such merchant: '{merchant_id}'", param="merchant")
    global _merchant_config
    with _config_lock:
        _merchant_config = (0.0, {})


def open_breakers(names: set[str]) -> set[str]:
    """The connectors among `names` whose breaker is open now."""
    import redis

    from chalicelib.adapters.redis_client import get_redis

    ordered = sorted(names)
    try:
        values = get_redis().mget([keys.breaker_open(n) for n in ordered])
    except redis.RedisError:
        return set()
    return {name for name, value in zip(ordered, values, strict=True) if value is not None}


def choose(candidates: list[str], opened: set[str]) -> str:
    """The first candidate whose breaker is closed, else the primary."""
    return next((c for c in candidates if c not in opened), candidates[0])


def routes_for_batch(conn: db.Connection) -> dict[str, Any]:
    """The claim's routing parameters: a connector per configured merchant, and the default."""
    default = settings.get_settings().connectors
    config = merchant_connectors(conn)
    names = set(default).union(*config.values()) if config else set(default)
    opened = open_breakers(names)
    merchants = list(config)
    return {
        "route_merchants": merchants,
        "route_connectors": [choose(config[m], opened) for m in merchants],
        "default_connector": choose(default, opened),
        "primaries": {m: config[m][0] for m in merchants} | {"": default[0]},
    }


def record_calls(connector: str, ok: int, failed: int) -> bool:
    """Count a batch's calls in the breaker; opens it when the window says so.

    Returns True when this call opened the breaker.
    """
    if not ok and not failed:
        return False
    import redis

    from chalicelib.adapters.redis_client import get_redis

    cfg = settings.get_settings()
    window = int(time.time() // cfg.breaker_window_s)
    current = keys.breaker_calls(connector, window)
    previous = keys.breaker_calls(connector, window - 1)
    ttl_ms = int(cfg.breaker_window_s * 2000) + 1000
    try:
        client = get_redis()
        pipe = client.pipeline(transaction=False)
        pipe.hincrby(current, "ok", ok)
        pipe.hincrby(current, "failed", failed)
        pipe.pexpire(current, ttl_ms)
        pipe.hgetall(previous)
        ok_now, failed_now, _, before = pipe.execute()
        total_failed = int(failed_now) + int(before.get("failed", 0))
        calls = int(ok_now) + int(before.get("ok", 0)) + total_failed
        if calls >= cfg.breaker_min_calls and total_failed / calls >= cfg.breaker_error_rate:
            opened = client.set(
                keys.breaker_open(connector), "1", px=int(cfg.breaker_cooldown_s * 1000), nx=True
            )
            if opened:
                log.warning(
                    "circuit breaker opened",
                    extra={"connector": connector, "calls": calls, "failed": total_failed},
                )
            return bool(opened)
    except redis.RedisError as exc:
        log.warning("breaker state unavailable: %s", type(exc).__name__)
    return False
