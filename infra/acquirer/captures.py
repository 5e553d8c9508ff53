"""Captures and voids of authorizations at the acquirer stand-in (manual capture).

    POST /v1/captures                   capture (part of) an authorization (Idempotency-Key)
    GET  /v1/captures/{key}             inquiry: the capture made under that key, or 404

An authorization is a charge made with `capture: false`: it stands (`capture_state`
`authorized`) until `authorized_until`, and is captured at most once, for at most its
amount (a partial capture releases the rest), never after a void or its expiry; a void
(`POST /v1/authorizations/{key}/void`) releases it, and with `authorization_only` never
reverses a capture. The settlement file books captures, not authorizations.
"""

from __future__ import annotations

import secrets
import sqlite3
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from infra.acquirer.books import Books, now_iso


def capture(books: Books, key: str) -> sqlite3.Row | None:
    return books.db.execute("SELECT * FROM captures WHERE idempotency_key = ?", (key,)).fetchone()


def begin_capture(books: Books, row: dict[str, Any]) -> tuple[sqlite3.Row, bool]:
    """Record the capture's key as `in_progress` on arrival (as `Books.begin_charge`)."""
    inserted = books.db.execute(
        "INSERT INTO captures (idempotency_key, id, fingerprint, charge_key, amount, currency,"
        " status, created_at) VALUES (:idempotency_key, :id, :fingerprint, :charge_key,"
        " :amount, :currency, 'in_progress', :created_at)"
        " ON CONFLICT (idempotency_key) DO NOTHING RETURNING *",
        {**row, "created_at": now_iso()},
    ).fetchall()
    if inserted:
        return inserted[0], True
    return capture(books, row["idempotency_key"]), False  # type: ignore[return-value]


def release_capture(books: Books, key: str) -> None:
    books.db.execute(
        "DELETE FROM captures WHERE idempotency_key = ? AND status = 'in_progress'", (key,)
    )


def _refusal(charge: sqlite3.Row | None, amount: int, currency: str) -> str | None:
    """Why this authorization cannot be captured for `amount`, or None."""
    if charge is None or charge["status"] not in ("succeeded", "voided"):
        return "authorization_not_found"
    state = charge["capture_state"]
    if state == "voided" or charge["status"] == "voided":
        return "authorization_voided"
    if state != "authorized":  # captured, or a charge captured when it was made
        return "already_captured"
    if charge["currency"] != currency:
        return "currency_mismatch"
    if amount > charge["amount"]:
        return "amount_exceeds_authorization"
    if datetime.fromisoformat(charge["authorized_until"]) <= datetime.now(UTC):
        return "authorization_expired"
    return None


def finish_capture(books: Books, key: str) -> sqlite3.Row:
    """Settle an in-progress capture: the authorization becomes `captured` for its amount
    (compare-and-set on `authorized`, in the same transaction), or the capture is declined."""
    with books.db:
        books.db.execute("BEGIN IMMEDIATE")
        row = capture(books, key)
        if row is None or row["status"] != "in_progress":
            return row  # type: ignore[return-value]
        charge = books.charge(row["charge_key"])
        code = _refusal(charge, row["amount"], row["currency"])
        if code is None:
            moved = books.db.execute(
                "UPDATE charges SET capture_state = 'captured', amount_captured = ?,"
                " captured_at = ? WHERE idempotency_key = ? AND capture_state = 'authorized'",
                (row["amount"], now_iso(), row["charge_key"]),
            ).rowcount
            code = None if moved else "already_captured"
        books.db.execute(
            "UPDATE captures SET status = ?, decline_code = ?, created_at = ?"
            " WHERE idempotency_key = ?",
            ("declined" if code else "succeeded", code, now_iso(), key),
        )
    return capture(books, key)  # type: ignore[return-value]


def captures_for_payment(books: Books, payment_id: str) -> list[dict[str, Any]]:
    rows = books.db.execute(
        "SELECT p.* FROM captures p JOIN charges c ON c.idempotency_key = p.charge_key"
        " WHERE c.payment_id = ? ORDER BY p.created_at",
        (payment_id,),
    ).fetchall()
    return [{k: r[k] for k in r.keys() if k != "fingerprint"} for r in rows]


# ---------------------------------------------------------------------- routes
async def capture_view(request: web.Request) -> web.Response:
    from infra.acquirer import server  # the shared request plumbing
    from infra.acquirer.fault_actions import with_faults
    from infra.acquirer.models import CaptureBody

    keyed = await server._keyed_body(request, CaptureBody)
    if isinstance(keyed, web.Response):
        return keyed
    key, body = keyed
    books = request.app[server.BOOKS]
    fingerprint = body.fingerprint()
    row, mine = begin_capture(
        books,
        {
            "idempotency_key": key,
            "id": f"cp_{secrets.token_hex(12)}",
            "fingerprint": fingerprint,
            "charge_key": body.charge_key,
            "amount": body.amount,
            "currency": body.currency,
        },
    )
    if not mine:
        return server._replay(row, fingerprint, "capture")
    return await with_faults(
        request,
        "capture",
        lambda: server._answer(finish_capture(books, key), False, "capture"),
        lambda: release_capture(books, key),
    )


def add_routes(app: web.Application) -> None:
    from infra.acquirer import server

    app.router.add_post("/v1/captures", capture_view)
    app.router.add_get("/v1/captures/{key}", server._inquiry(capture, "capture"))
