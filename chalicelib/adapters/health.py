"""Dependency checks for GET /health (no details leave this module)."""

from __future__ import annotations

import logging
from typing import Literal

from chalicelib import db
from chalicelib.adapters.redis_client import get_redis

log = logging.getLogger(__name__)


def check() -> dict[str, Literal["ok", "unavailable"]]:
    """`ok` or `unavailable` for Postgres and Redis."""
    checks: dict[str, Literal["ok", "unavailable"]] = {"postgres": "ok", "redis": "ok"}
    try:
        with db.connection() as conn:
            conn.execute("SELECT 1")
    except Exception as exc:
        log.warning("health: postgres unavailable: %s", type(exc).__name__)
        checks["postgres"] = "unavailable"
    try:
        get_redis().ping()
    except Exception as exc:
        log.warning("health: redis unavailable: %s", type(exc).__name__)
        checks["redis"] = "unavailable"
    return checks
