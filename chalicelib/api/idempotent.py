"""The idempotency runner: a POST with an `Idempotency-Key` executes once.

The key is claimed, the view runs and its answer is recorded, all in the route's
one transaction: either the object and its record both exist or neither does. A
second request with the same key replays the recorded answer (`Idempotent-Replayed`).

The transaction is pipelined (`db.unit_of_work(pipelined=True)`): the claim is not
waited for, it travels with the view's first statement. A refused claim aborts the
transaction on the server, so nothing the view sent after it runs; the refusal
surfaces as an exception at the view's first fetch or at the COMMIT, and the
request pipeline answers it with `answer_refused` once the transaction has ended.
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
    fingerprint: idempotency.Fingerprint | None,
    execute: Callable[[], tuple[Rendered, bytes | None]],
) -> Rendered:
    """The answer to this request, executed and recorded in `uow`.

    Any error raised by `execute` rolls the whole unit back, the idempotency record
    included: nothing was created, so the key stays free for a retry. A refused claim
    is raised instead of the view's own error, whatever the view raised: the view may
    have failed only because the server skipped its statements.
    """
    if key is None or fingerprint is None:
        return execute()[0]
    idempotency.claim(uow.conn, merchant_id, key)
    try:
        (status, payload, headers), replay_payload = execute()
    except Exception as exc:
        if idempotency.refusal(exc) is None:
            _raise_refused_claim(uow.conn)
        raise
    stored_headers = {k: v for k, v in headers.items() if k != "Content-Type"}
    # A secret in the answer is never stored: the replay gets `replay_payload`.
    idempotency.record(
        uow.conn,
        merchant_id,
        key,
        fingerprint,
        idempotency.StoredResponse(status, replay_payload or payload, stored_headers),
    )
    return status, payload, headers


def _raise_refused_claim(conn: db.Connection) -> None:
    """Wait for the claim's answer (the view failed before fetching anything) and raise
    it if it was refused; any other error is left to the caller's own exception."""
    if not conn.pgconn.pipeline_status:
        return  # not pipelined: the claim was answered before the view ran
    try:
        with conn.pipeline() as pipeline:
            pipeline.sync()
    except Exception as exc:
        if idempotency.refusal(exc) is not None:
            raise


def answer_refused(
    exc: BaseException, merchant_id: str, key: str, fingerprint: idempotency.Fingerprint
) -> Rendered:
    """The answer to a request whose claim was refused, read after its transaction ended:
    409 while another request holds the key, else the recorded answer replayed (or 400
    when the key was used with a different request)."""
    if idempotency.refusal(exc) == "in_use":
        raise idempotency.in_use_error() from None
    # A write: a record fingerprinted under an older key version is rehashed.
    with db.unit_of_work() as uow:
        stored = idempotency.stored_answer(uow.conn, merchant_id, key, fingerprint)
    return stored.status, stored.body, {**stored.headers, "Idempotent-Replayed": "true"}
