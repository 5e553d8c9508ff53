"""The idempotency runner: a POST with an `Idempotency-Key` executes once.

The key is claimed, the view runs and its answer is recorded, all in the route's
one transaction: either the object and its record both exist or neither does. A
second request with the same key replays the recorded answer (`Idempotent-Replayed`).
"""

from __future__ import annotations

from collections.abc import Callable

from chalicelib import db
from chalicelib.services import idempotency

#: status, body bytes, headers
Rendered = tuple[int, bytes, dict[str, str]]


def run_once(
    uow: db.UnitOfWork,
    merchant_id: str,
    key: str | None,
    fingerprint: str,
    execute: Callable[[], tuple[Rendered, bytes | None]],
) -> tuple[Rendered, bool]:
    """The answer to this request and whether it was replayed.

    Any error raised by `execute` rolls the whole unit back, the idempotency record
    included: nothing was created, so the key stays free for a retry.
    """
    if key is not None:
        stored = idempotency.begin(uow.conn, merchant_id, key, fingerprint)
        if stored is not None:
            return (
                stored.status,
                stored.body,
                {**stored.headers, "Idempotent-Replayed": "true"},
            ), True
    (status, payload, headers), replay_payload = execute()
    if key is not None:
        stored_headers = {k: v for k, v in headers.items() if k != "Content-Type"}
        # A secret in the answer is never stored: the replay gets `replay_payload`.
        idempotency.record(
            uow.conn,
            merchant_id,
            key,
            fingerprint,
            idempotency.StoredResponse(status, replay_payload or payload, stored_headers),
        )
    return (status, payload, headers), False
