"""A granian worker is warm before its threads serve (`workers.serve.warm_up`).

A cold worker answered its first four requests (one per thread) 0.7-1 s late: each
thread read the secrets through a boto3 client of its own, under the GIL. granian gives
a worker its first connection whenever a client lands on it, so `make bench`'s measured
rounds met it (p99 0.1-0.8 s on the durable stack), as would any user after a restart.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from chalicelib import db, secret_values, settings
from chalicelib.adapters import redis_client
from workers import serve


@pytest.fixture
def cold_process() -> Iterator[None]:
    """Nothing read or opened yet, as in a new worker; the environment restored after
    (loading the stage fills in its variables)."""
    saved = dict(os.environ)
    forget_everything()
    yield
    os.environ.clear()
    os.environ.update(saved)
    forget_everything()  # the next test opens its own, to its own URLs


def forget_everything() -> None:
    settings.reset_settings()
    db.close_pool()
    redis_client.close_redis()


def test_the_worker_factory_reads_the_secrets_and_opens_connections_before_serving(
    cold_process: None,
) -> None:
    assert settings.names_secrets(settings.get_settings()), "the test stack keeps keys secret"
    serve.wsgi_app()
    # No request has been served, and the keyrings are read through Secrets Manager ...
    assert {"idempotency", "api_key"} <= set(settings._resolved_keys)
    assert secret_values._secrets_client.cache_info().currsize == 1
    # ... and the pool and the Redis client exist.
    assert db._pool is not None
    assert redis_client._client is not None


def test_a_worker_starts_even_when_redis_is_down(cold_process: None) -> None:
    os.environ["REDIS_URL"] = "redis://127.0.0.1:1/0"
    settings.reset_settings()
    app = serve.wsgi_app()  # logs "worker started cold"; the requests answer 503
    assert callable(app)
    assert "idempotency" in settings._resolved_keys
