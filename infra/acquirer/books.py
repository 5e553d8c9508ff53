"""The acquirer's books: SQLite in WAL mode under the stack's data directory.

One connection, used only from the server's event loop thread, so a check and the
write that follows it never interleave with another request (no await between them).
Charges and refunds are keyed by the caller's idempotency key; a replay compares the
request's fingerprint with the one recorded. Card tokens keep brand, last four digits,
expiry and the test scenario: never the number, never the CVC.

The idempotency layer, as a real acquirer's: a key is recorded (`in_progress`) when its
request arrives, before anything is done, so an inquiry or a replay while the request
still runs sees it (`in_progress`, 409 `request_in_progress`), never "not found". When
the request ends it becomes `succeeded` or `declined`; a request that did not act
(refused, "not processed", abandoned) gives its key back. A void by key makes the key
`voided` (nothing was charged, and nothing ever will be under it) or, if it had
charged, `reversed`; a later request under that key never charges.
"""

from __future__ import annotations

import secrets
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
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
    status TEXT NOT NULL
        CHECK (status IN ('in_progress', 'succeeded', 'declined', 'voided', 'reversed')),
    decline_code TEXT, amount_refunded INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL,
    voided_at TEXT,
    -- authorized only (capture=false): NULL for a charge captured when it was made
    capture_state TEXT CHECK (capture_state IN ('authorized', 'captured', 'voided')),
    authorized_until TEXT, amount_captured INTEGER, captured_at TEXT,
    CHECK (amount_refunded BETWEEN 0 AND amount),
    CHECK (amount_captured IS NULL OR amount_captured BETWEEN 1 AND amount));
CREATE INDEX IF NOT EXISTS charges_created ON charges (created_at);
CREATE TABLE IF NOT EXISTS refunds (
    idempotency_key TEXT PRIMARY KEY, id TEXT UNIQUE NOT NULL, fingerprint TEXT NOT NULL,
    charge_key TEXT NOT NULL, refund_id TEXT NOT NULL, amount INTEGER NOT NULL,
    currency TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('in_progress', 'succeeded', 'declined', 'voided')),
    decline_code TEXT, created_at TEXT NOT NULL, voided_at TEXT);
CREATE INDEX IF NOT EXISTS refunds_created ON refunds (created_at);
CREATE INDEX IF NOT EXISTS refunds_charge ON refunds (charge_key);
-- Captures of authorizations, keyed by the capture's own idempotency key.
CREATE TABLE IF NOT EXISTS captures (
    idempotency_key TEXT PRIMARY KEY, id TEXT UNIQUE NOT NULL, fingerprint TEXT NOT NULL,
    charge_key TEXT NOT NULL, amount INTEGER NOT NULL, currency TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('in_progress', 'succeeded', 'declined')),
    decline_code TEXT, created_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS captures_charge ON captures (charge_key);
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

    def __init__(self, data_dir: Path, authorization_ttl_s: float = 7 * 86400) -> None:
        #: how long an authorization (capture=false) can be captured
        self.authorization_ttl_s = authorization_ttl_s
        data_dir.mkdir(parents=True, exist_ok=True)
        # books-3: charges and refunds gained `in_progress`, `voided` and `reversed`, then
        # authorizations and captures (a new file rather than a migration: these are a
        # stand-in's test books).
        self.db = sqlite3.connect(data_dir / "books-3.sqlite3", isolation_level=None)
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

    def recover(self) -> int:
        """At start: give back the keys of requests that died with the process.

        A request acts in one statement, so a key still `in_progress` now never acted.
        Returns how many keys were given back.
        """
        n = self.db.execute("DELETE FROM charges WHERE status = 'in_progress'").rowcount
        return n + self.db.execute("DELETE FROM refunds WHERE status = 'in_progress'").rowcount

    # ------------------------------------------------------------------ charges
    def charge(self, key: str) -> sqlite3.Row | None:
        return self.db.execute("SELECT * FROM charges WHERE idempotency_key = ?", (key,)).fetchone()

    def first_transient_answer(self, key: str) -> bool:
        """True the first time a key asks (records it); False on every later call."""
        cursor = self.db.execute(
            "INSERT INTO transient_answers VALUES (?) ON CONFLICT DO NOTHING", (key,)
        )
        return cursor.rowcount == 1

    def begin_charge(self, row: dict[str, Any]) -> tuple[sqlite3.Row, bool]:
        """Record the key as `in_progress` on arrival: (the recorded row, is it this call's?)."""
        # fetchall: the statement runs to its end, so autocommit commits it here.
        authorize_only = not row.get("capture", True)
        until = datetime.now(UTC) + timedelta(seconds=self.authorization_ttl_s)
        inserted = self.db.execute(
            "INSERT INTO charges (idempotency_key, id, fingerprint, payment_id, amount,"
            " currency, status, created_at, capture_state, authorized_until)"
            " VALUES (:idempotency_key, :id, :fingerprint, :payment_id, :amount, :currency,"
            " 'in_progress', :created_at, :capture_state, :authorized_until)"
            " ON CONFLICT (idempotency_key) DO NOTHING RETURNING *",
            {
                **row,
                "created_at": now_iso(),
                "capture_state": "authorized" if authorize_only else None,
                "authorized_until": until.isoformat() if authorize_only else None,
            },
        ).fetchall()
        if inserted:
            return inserted[0], True
        return self.charge(row["idempotency_key"]), False  # type: ignore[return-value]

    def finish_charge(self, key: str, status: str, decline_code: str | None) -> sqlite3.Row:
        """The charge's outcome, unless a void came first (then the voided row)."""
        done = self.db.execute(
            "UPDATE charges SET status = ?, decline_code = ?, created_at = ?"
            " WHERE idempotency_key = ? AND status = 'in_progress' RETURNING *",
            (status, decline_code, now_iso(), key),
        ).fetchall()
        return done[0] if done else self.charge(key)  # type: ignore[return-value]

    def release_charge(self, key: str) -> None:
        """The request did not act: its key is free again (unless it was voided)."""
        self.db.execute(
            "DELETE FROM charges WHERE idempotency_key = ? AND status = 'in_progress'", (key,)
        )

    def void_charge(
        self, key: str, payment_id: str, authorization_only: bool = False
    ) -> tuple[str, sqlite3.Row | None]:
        """Void by key: (`voided` | `reversed` | `declined` | `has_refunds` | `captured`,
        the row). `authorization_only`: a captured charge is not reversed (`captured`).

        `voided`: nothing was charged under the key, and nothing ever will be.
        `reversed`: a charge had been made under it; it is reversed, and stands no more.
        """
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            row = self.charge(key)
            now = now_iso()
            if row is None:
                self.db.execute(
                    "INSERT INTO charges (idempotency_key, id, fingerprint, payment_id, amount,"
                    " currency, status, created_at, voided_at) VALUES (?, ?, '', ?, 0, '',"
                    " 'voided', ?, ?)",
                    (key, f"ch_void_{secrets.token_hex(10)}", payment_id, now, now),
                )
                result = "voided"
            elif row["status"] == "in_progress":
                self.db.execute(
                    "UPDATE charges SET status = 'voided', voided_at = ? WHERE idempotency_key = ?",
                    (now, key),
                )
                result = "voided"
            elif row["status"] == "succeeded" and row["capture_state"] == "authorized":
                # an authorization released: nothing was ever captured under it
                self.db.execute(
                    "UPDATE charges SET status = 'voided', capture_state = 'voided',"
                    " voided_at = ? WHERE idempotency_key = ?",
                    (now, key),
                )
                result = "voided"
            elif row["status"] == "succeeded" and authorization_only:
                return "captured", row  # the caller voids an authorization, never a capture
            elif row["status"] == "succeeded":
                if row["amount_refunded"]:
                    return "has_refunds", row
                self.db.execute(
                    "UPDATE charges SET status = 'reversed', voided_at = ?"
                    " WHERE idempotency_key = ?",
                    (now, key),
                )
                result = "reversed"
            else:  # declined, or voided / reversed before: the same answer again
                result = str(row["status"])
        return result, self.charge(key)

    # ------------------------------------------------------------------ refunds
    def refund(self, key: str) -> sqlite3.Row | None:
        return self.db.execute("SELECT * FROM refunds WHERE idempotency_key = ?", (key,)).fetchone()

    def begin_refund(self, row: dict[str, Any]) -> tuple[sqlite3.Row, bool]:
        """Record the refund's key as `in_progress` on arrival (as `begin_charge`)."""
        inserted = self.db.execute(
            "INSERT INTO refunds (idempotency_key, id, fingerprint, charge_key, refund_id,"
            " amount, currency, status, created_at) VALUES (:idempotency_key, :id,"
            " :fingerprint, :charge_key, :refund_id, :amount, :currency, 'in_progress',"
            " :created_at) ON CONFLICT (idempotency_key) DO NOTHING RETURNING *",
            {**row, "created_at": now_iso()},
        ).fetchall()
        if inserted:
            return inserted[0], True
        return self.refund(row["idempotency_key"]), False  # type: ignore[return-value]

    def finish_refund(self, key: str, status: str, code: str | None) -> sqlite3.Row:
        """Settle an in-progress refund; a succeeded one also raises its charge's refunded
        amount. Both in one transaction, with the limit checked by the UPDATE itself: a
        refund never takes a charge beyond its captured amount (nor a reversed one)."""
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            row = self.refund(key)
            if row is None or row["status"] != "in_progress":
                return row  # type: ignore[return-value]
            if status == "succeeded":
                moved = self.db.execute(
                    "UPDATE charges SET amount_refunded = amount_refunded + ?"
                    " WHERE idempotency_key = ? AND status = 'succeeded'"
                    " AND coalesce(capture_state, 'captured') = 'captured'"
                    " AND amount_refunded + ? <= coalesce(amount_captured, amount)",
                    (row["amount"], row["charge_key"], row["amount"]),
                ).rowcount
                if not moved:
                    status, code = "declined", "refund_exceeds_capture"
            self.db.execute(
                "UPDATE refunds SET status = ?, decline_code = ?, created_at = ?"
                " WHERE idempotency_key = ?",
                (status, code, now_iso(), key),
            )
        return self.refund(key)  # type: ignore[return-value]

    def release_refund(self, key: str) -> None:
        self.db.execute(
            "DELETE FROM refunds WHERE idempotency_key = ? AND status = 'in_progress'", (key,)
        )

    def void_refund(self, key: str) -> tuple[str, sqlite3.Row | None]:
        """Void a refund by key: `voided` (never refunds), or its final status if it ended
        (`succeeded` | `declined`: a refund that was made is not undone)."""
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            row = self.refund(key)
            now = now_iso()
            if row is None:
                self.db.execute(
                    "INSERT INTO refunds (idempotency_key, id, fingerprint, charge_key,"
                    " refund_id, amount, currency, status, created_at, voided_at)"
                    " VALUES (?, ?, '', '', '', 0, '', 'voided', ?, ?)",
                    (key, f"rf_void_{secrets.token_hex(10)}", now, now),
                )
            elif row["status"] == "in_progress":
                self.db.execute(
                    "UPDATE refunds SET status = 'voided', voided_at = ? WHERE idempotency_key = ?",
                    (now, key),
                )
            row = self.refund(key)
        return str(row["status"]), row  # type: ignore[index]
