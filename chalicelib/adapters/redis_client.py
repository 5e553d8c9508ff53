"""The Redis client: one per process, created on first use."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    # Imported on first use (see db.py): `import redis` costs a fifth of a cold start.
    import redis

_lock = threading.Lock()
_client: redis.Redis | None = None


def get_redis() -> redis.Redis:
    """The process-wide Redis client (thread-safe connection pool, short timeouts)."""
    global _client
    if _client is None:
        with _lock:
            if _client is None:
                import redis

                from chalicelib import settings

                cfg = settings.get_settings()
                _client = redis.Redis.from_url(
                    settings.redis_url(),
                    socket_timeout=cfg.redis_socket_timeout_s,
                    socket_connect_timeout=cfg.redis_socket_timeout_s,
                    health_check_interval=30,
                    decode_responses=True,
                )
    return _client


def close_redis() -> None:
    """Drop the client (tests, shutdown)."""
    global _client
    with _lock:
        if _client is not None:
            _client.close()
            _client = None


def forget_redis() -> None:
    """Drop the client without closing its sockets (after a SnapStart restore)."""
    global _client
    with _lock:
        _client = None
