"""Lambda SnapStart runtime hooks: what a snapshot must not carry, and what a restore renews.

With SnapStart, Lambda runs the init phase once, snapshots the memory, and starts every
new execution environment from a copy of that snapshot. Whatever the init left in memory
is therefore shared by every environment restored from it:

- sockets: a pooled Postgres connection or a Redis connection would be one server-side
  session used by many environments at once. Before the snapshot they are closed; after
  a restore the handles are forgotten (never closed: closing a copied socket could end
  the session another environment still uses) and fresh ones are opened.
- the `random` module's Mersenne Twister state, seeded from the OS once at import: every
  environment would draw the same retry jitter. After a restore it is reseeded from the
  OS. Ids (`chalicelib.ids`) and secrets come from `os.urandom` and keep no state; ids
  carry no counter either, so there is no sequence to renew.

Before the snapshot the modules a first event would import lazily are imported, so a
restored environment does not pay for them: boto3 too where the settings name secrets
(prod), though the secrets themselves are read only after a restore. A SnapStart
function reads them through boto3 even where it has the Parameters and Secrets
extension's layer: Lambda gives it no AWS_SESSION_TOKEN, which the extension requires
(`secret_values.extension_port`).

The hooks are registered with `snapshot_restore_py`, which the Lambda Python runtime
provides (it is kept out of the deployment zip; tests install it from
requirements-dev.txt). Where it is absent, as in `chalice local`, nothing is registered.
"""

from __future__ import annotations

import importlib
import logging
import random
import sys

from chalicelib import db
from chalicelib.adapters import redis_client

log = logging.getLogger(__name__)

# Imported lazily on the request path (see db.py, redis_client.py, api/pipeline.py and
# the route modules); worth having in the snapshot, where importing costs nothing at restore.
PRELOAD = (
    "psycopg",
    "psycopg.rows",
    "psycopg_pool",
    "redis",
    "chalicelib.settings",
    "chalicelib.api.auth",
    "chalicelib.api.idempotent",
    "chalicelib.services.payments",
    "chalicelib.services.refunds",
    "chalicelib.services.webhooks",
    "chalicelib.handlers.process_payments",
    "chalicelib.handlers.deliver_webhooks",
)


def preload_modules() -> None:
    """Import what the first event would otherwise import, and build the validators of
    every route's models (pydantic defers them to first use), before the snapshot."""
    for name in PRELOAD:
        importlib.import_module(name)
    from chalicelib import settings  # not at import: `import app` stays without pydantic

    if settings.names_secrets(settings.get_settings()):
        # The secrets are read after the restore (never kept in the snapshot), through
        # boto3: importing it here spares every restored environment 0.2-0.4 s.
        importlib.import_module("boto3")
    from chalicelib.api.endpoint import ROUTES

    for route in ROUTES:
        for model in (route.body, route.query, route.response):
            if model is not None:
                model.model_rebuild(force=True)


def close_connections() -> None:
    """Close the Postgres pool, the Redis client and the connectors' HTTP pools, with
    their event loop (before the snapshot)."""
    db.close_pool()
    redis_client.close_redis()
    # The runner (and asyncio under it) is imported by the first charge, never with the
    # app: if no handler ran during the init, it holds nothing to close.
    runner = sys.modules.get("chalicelib.connectors.runner")
    if runner is not None:
        runner.shutdown()


def renew_after_restore() -> None:
    """Forget copied connections, reseed `random`, open a fresh pool (after a restore).

    Opening the pool starts its connections in the background; if the database or its
    secret is unreachable now, the first request opens it again and reports the error.
    """
    db.forget_pool()
    redis_client.forget_redis()
    random.seed()
    try:
        db.get_pool()
    except Exception:
        log.warning("could not open the database pool after restore", exc_info=True)


def register() -> bool:
    """Register the hooks with the Lambda runtime; False where there is no runtime."""
    try:
        from snapshot_restore_py import register_after_restore, register_before_snapshot
    except ImportError:
        return False
    # The runtime runs before-snapshot hooks in reverse order of registration:
    # connections are closed last, after the preload that could have opened none.
    register_before_snapshot(close_connections)
    register_before_snapshot(preload_modules)
    register_after_restore(renew_after_restore)
    return True


REGISTERED = register()
