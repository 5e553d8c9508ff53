"""The acquirer's reports: the daily settlement file, and the books read by the tests.

GET /v1/settlements/{YYYY-MM-DD}.csv   the day's captures and refunds
GET /admin/books                       totals (or ?payment_id=... for its records)
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from typing import Any

from aiohttp import web

from infra.acquirer.books import Books, now_iso
from infra.acquirer.captures import captures_for_payment
from infra.acquirer.models import error

CSV_FIELDS = (
    "type",
    "id",
    "idempotency_key",
    "payment_id",
    "refund_id",
    "amount",
    "currency",
    "created_at",
)


def settlement(books: Books, day: date) -> list[dict[str, Any]]:
    """Succeeded captures and refunds created on `day` (UTC), oldest first."""
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    bounds = (start.isoformat(), (start + timedelta(days=1)).isoformat())
    rows = books.db.execute(
        # captures, not authorizations: a charge captured when made, or an
        # authorization's capture (its amount, on the day it was captured)
        "SELECT 'capture' AS type, id, idempotency_key, payment_id, NULL AS refund_id,"
        " coalesce(amount_captured, amount) AS amount, currency,"
        " coalesce(captured_at, created_at) AS created_at FROM charges"
        " WHERE status = 'succeeded' AND coalesce(capture_state, 'captured') = 'captured'"
        " AND coalesce(captured_at, created_at) >= ?"
        " AND coalesce(captured_at, created_at) < ?"
        " UNION ALL"
        " SELECT 'refund', r.id, r.idempotency_key, c.payment_id, r.refund_id, r.amount,"
        " r.currency, r.created_at FROM refunds r JOIN charges c"
        " ON c.idempotency_key = r.charge_key WHERE r.status = 'succeeded'"
        " AND r.created_at >= ? AND r.created_at < ? ORDER BY created_at, id",
        (*bounds, *bounds),
    ).fetchall()
    return [dict(r) for r in rows]


def summary(books: Books) -> dict[str, Any]:
    charges = books.db.execute(
        "SELECT status, count(*) AS n, coalesce(sum(amount), 0) AS amount,"
        " coalesce(sum(amount_refunded), 0) AS refunded FROM charges GROUP BY status"
    ).fetchall()
    refunds = books.db.execute(
        "SELECT status, count(*) AS n, coalesce(sum(amount), 0) AS amount"
        " FROM refunds GROUP BY status"
    ).fetchall()
    over = books.db.execute(
        "SELECT count(*) FROM charges c WHERE c.amount_refunded <> (SELECT coalesce("
        "sum(amount), 0) FROM refunds r WHERE r.charge_key = c.idempotency_key"
        " AND r.status = 'succeeded')"
    ).fetchone()[0]
    # money safety of manual capture: never more than authorized, never after a void
    beyond, after_void = books.db.execute(
        "SELECT (SELECT count(*) FROM charges WHERE amount_captured > amount),"
        " (SELECT count(*) FROM captures p JOIN charges c"
        "  ON c.idempotency_key = p.charge_key WHERE p.status = 'succeeded'"
        "  AND c.capture_state <> 'captured')"
    ).fetchone()
    return {
        "captures_beyond_authorization": beyond,
        "captures_not_standing": after_void,
        "charges": {r["status"]: {"count": r["n"], "amount": r["amount"]} for r in charges},
        "amount_refunded": sum(r["refunded"] for r in charges),
        "refunds": {r["status"]: {"count": r["n"], "amount": r["amount"]} for r in refunds},
        "charges_with_inconsistent_refunds": over,
    }


def charges_for_payment(books: Books, payment_id: str) -> list[dict[str, Any]]:
    rows = books.db.execute(
        "SELECT * FROM charges WHERE payment_id = ? ORDER BY created_at", (payment_id,)
    ).fetchall()
    return [{k: r[k] for k in r.keys() if k != "fingerprint"} for r in rows]


def refunds_for_payment(books: Books, payment_id: str) -> list[dict[str, Any]]:
    rows = books.db.execute(
        "SELECT r.* FROM refunds r JOIN charges c ON c.idempotency_key = r.charge_key"
        " WHERE c.payment_id = ? ORDER BY r.created_at",
        (payment_id,),
    ).fetchall()
    return [{k: r[k] for k in r.keys() if k != "fingerprint"} for r in rows]


def _books_key() -> Any:
    from infra.acquirer.server import BOOKS  # the app's key (server imports this module)

    return BOOKS


async def settlement_view(request: web.Request) -> web.Response:
    try:
        day = date.fromisoformat(request.match_info["day"])
    except ValueError:
        return error(400, "parameter_invalid", "The date must be YYYY-MM-DD", "day")
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    for row in settlement(request.app[_books_key()], day):
        writer.writerow(row)
    return web.Response(text=out.getvalue(), content_type="text/csv")


async def books_view(request: web.Request) -> web.Response:
    books = request.app[_books_key()]
    payment_id = request.query.get("payment_id")
    if payment_id:
        return web.json_response(
            {
                "charges": charges_for_payment(books, payment_id),
                "captures": captures_for_payment(books, payment_id),
                "refunds": refunds_for_payment(books, payment_id),
            }
        )
    return web.json_response({"at": now_iso(), **summary(books)})
