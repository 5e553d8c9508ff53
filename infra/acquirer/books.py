"""The acquirer's books: SQLite in WAL mode under the stack's data directory.

One connection, used only from the server's event loop thread, so a check and the
write that follows it never interleave with another request (no await between them).
Charges and refunds are keyed by the caller's idempotency key; a replay compares the
request's fingerprint with the one recorded. Card tokens keep brand, last four digits,
expiry and the test scenario: never the number, never the CVC.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS tokens (
    token TEXT PRIMARY KEY, idempotency_key TEXT UNIQUE NOT NULL, brand TEXT NOT NULL,
    last4 TEXT NOT NULL, exp_month INTEGER NOT NULL, exp_year INTEGER NOT NULL,
    scenario TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS charges (
    idempotency_key TEXT PRIMARY KEY, id TEXT UNIQUE NOT NULL, fingerprint TEXT NOT NULL,
    payment_id TEXT NOT NULL, amount INTEGER NOT NULL, currency TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('succeeded', 'declined')), decline_code TEXT,
    amount_refunded INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL,
    CHECK (amount_refunded BETWEEN 0 AND amount));
CREATE INDEX IF NOT EXISTS charges_created ON charges (created_at);
CREATE TABLE IF NOT EXISTS refunds (
    idempotency_key TEXT PRIMARY KEY, id TEXT UNIQUE NOT NULL, fingerprint TEXT NOT NULL,
    charge_key TEXT NOT NULL, refund_id TEXT NOT NULL, amount INTEGER NOT NULL,
    currency TEXT NOT NULL, status TEXT NOT NULL CHECK (status IN ('succeeded', 'declined')),
    decline_code TEXT, created_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS refunds_created ON refunds (created_at);
CREATE INDEX IF NOT EXISTS refunds_charge ON refunds (charge_key);
-- Keys that got one "not processed" answer (the flaky test scenario fails once per key).
CREATE TABLE IF NOT EXISTS transient_answers (idempotency_key TEXT PRIMARY KEY);
"""


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class Conflict:
    """The key is already recorded with another request body."""

    idempotency_key: str


class Books:
    """Every table of the acquirer; each method is one short transaction."""

    def __init__(self, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(data_dir / "books.sqlite3", isolation_level=None)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode: a committed charge survives a process crash (not a power cut).
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    # ------------------------------------------------------------------ tokens
    def token_for_key(self, key: str) -> sqlite3.Row | None:
        return self.db.execute("SELECT * FROM tokens WHERE idempotency_key = ?", (key,)).fetchone()

    def token(self, token: str) -> sqlite3.Row | None:
        return self.db.execute("SELECT * FROM tokens WHERE token = ?", (token,)).fetchone()

    def add_token(self, row: dict[str, Any]) -> sqlite3.Row:
        self.db.execute(
            "INSERT INTO tokens (token, idempotency_key, brand, last4, exp_month, exp_year,"
            " scenario, created_at) VALUES (:token, :idempotency_key, :brand, :last4,"
            " :exp_month, :exp_year, :scenario, :created_at)"
            " ON CONFLICT (idempotency_key) DO NOTHING",
            {**row, "created_at": now_iso()},
        )
        return self.token_for_key(row["idempotency_key"])  # type: ignore[return-value]

    # ------------------------------------------------------------------ charges
    def charge(self, key: str) -> sqlite3.Row | None:
        return self.db.execute("SELECT * FROM charges WHERE idempotency_key = ?", (key,)).fetchone()

    def first_transient_answer(self, key: str) -> bool:
        """True the first time a key asks (records it); False on every later call."""
        cursor = self.db.execute(
            "INSERT INTO transient_answers VALUES (?) ON CONFLICT DO NOTHING", (key,)
        )
        return cursor.rowcount == 1

    def record_charge(self, row: dict[str, Any]) -> tuple[sqlite3.Row, bool]:
        """Insert the charge unless its key exists: (the recorded row, inserted?)."""
        # fetchall: the statement runs to its end, so autocommit commits it here.
        inserted = self.db.execute(
            "INSERT INTO charges (idempotency_key, id, fingerprint, payment_id, amount,"
            " currency, status, decline_code, created_at) VALUES (:idempotency_key, :id,"
            " :fingerprint, :payment_id, :amount, :currency, :status, :decline_code,"
            " :created_at) ON CONFLICT (idempotency_key) DO NOTHING RETURNING *",
            {**row, "created_at": now_iso()},
        ).fetchall()
        if inserted:
            return inserted[0], True
        return self.charge(row["idempotency_key"]), False  # type: ignore[return-value]

    # ------------------------------------------------------------------ refunds
    def refund(self, key: str) -> sqlite3.Row | None:
        return self.db.execute("SELECT * FROM refunds WHERE idempotency_key = ?", (key,)).fetchone()

    def record_refund(self, row: dict[str, Any]) -> tuple[sqlite3.Row, bool]:
        """Record a refund; a succeeded one also raises its charge's refunded amount.

        Both in one transaction, with the limit checked by the UPDATE itself: a refund
        never takes a charge beyond its captured amount.
        """
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            existing = self.refund(row["idempotency_key"])
            if existing is not None:
                return existing, False
            status, code = row["status"], row["decline_code"]
            if status == "succeeded":
                moved = self.db.execute(
                    "UPDATE charges SET amount_refunded = amount_refunded + :amount"
                    " WHERE idempotency_key = :charge_key AND status = 'succeeded'"
                    " AND amount_refunded + :amount <= amount",
                    row,
                ).rowcount
                if not moved:
                    status, code = "declined", "refund_exceeds_capture"
            self.db.execute(
                "INSERT INTO refunds (idempotency_key, id, fingerprint, charge_key, refund_id,"
                " amount, currency, status, decline_code, created_at) VALUES (:idempotency_key,"
                " :id, :fingerprint, :charge_key, :refund_id, :amount, :currency, :status,"
                " :decline_code, :created_at)",
                {**row, "status": status, "decline_code": code, "created_at": now_iso()},
            )
        return self.refund(row["idempotency_key"]), True  # type: ignore[return-value]

    # ------------------------------------------------------------------ reports
    def settlement(self, day: date) -> list[dict[str, Any]]:
        """Succeeded captures and refunds created on `day` (UTC), oldest first."""
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        bounds = (start.isoformat(), (start + timedelta(days=1)).isoformat())
        rows = self.db.execute(
            "SELECT 'capture' AS type, id, idempotency_key, payment_id, NULL AS refund_id,"
            " amount, currency, created_at FROM charges WHERE status = 'succeeded'"
            " AND created_at >= ? AND created_at < ?"
            " UNION ALL"
            " SELECT 'refund', r.id, r.idempotency_key, c.payment_id, r.refund_id, r.amount,"
            " r.currency, r.created_at FROM refunds r JOIN charges c"
            " ON c.idempotency_key = r.charge_key WHERE r.status = 'succeeded'"
            " AND r.created_at >= ? AND r.created_at < ? ORDER BY created_at, id",
            (*bounds, *bounds),
        ).fetchall()
        return [dict(r) for r in rows]

    def summary(self) -> dict[str, Any]:
        charges = self.db.execute(
            "SELECT status, count(*) AS n, coalesce(sum(amount), 0) AS amount,"
            " coalesce(sum(amount_refunded), 0) AS refunded FROM charges GROUP BY status"
        ).fetchall()
        refunds = self.db.execute(
            "SELECT status, count(*) AS n, coalesce(sum(amount), 0) AS amount"
            " FROM refunds GROUP BY status"
        ).fetchall()
        over = self.db.execute(
            "SELECT count(*) FROM charges c WHERE c.amount_refunded <> (SELECT coalesce("
            "sum(amount), 0) FROM refunds r WHERE r.charge_key = c.idempotency_key"
            " AND r.status = 'succeeded')"
        ).fetchone()[0]
        return {
            "charges": {r["status"]: {"count": r["n"], "amount": r["amount"]} for r in charges},
            "amount_refunded": sum(r["refunded"] for r in charges),
            "refunds": {r["status"]: {"count": r["n"], "amount": r["amount"]} for r in refunds},
            "charges_with_inconsistent_refunds": over,
        }

    def charges_for_payment(self, payment_id: str) -> list[dict[str, Any]]:
        rows = self.db.execute(
            "SELECT * FROM charges WHERE payment_id = ? ORDER BY created_at", (payment_id,)
        ).fetchall()
        return [{k: r[k] for k in r.keys() if k != "fingerprint"} for r in rows]
