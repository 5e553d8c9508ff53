"""The accept floor: the statements of one accept, issued directly.

Exactly what the accept path sends, with nothing around it (no Chalice, pydantic,
services or rendering of the contract's body): one pipelined transaction whose
BEGIN, key claim, payment + history INSERT, idempotency record and COMMIT all go
in one round trip, then the XADD.
"""

from __future__ import annotations

import hmac
import json
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from chalicelib import db, ids, settings
from chalicelib import redis_keys as keys
from chalicelib.clock import utcnow
from chalicelib.repository.idempotency import CLAIM_KEY, INSERT_RECORD
from chalicelib.repository.payments import INSERT_PAYMENT_WITH_HISTORY

TTL_S = 24 * 3600.0


def connect(url: str | None = None) -> psycopg.Connection:
    return psycopg.connect(
        url or settings.database_url(), autocommit=True, row_factory=dict_row, prepare_threshold=0
    )


def direct_accept(
    conn: psycopg.Connection, redis: Any, merchant_id: str, body: dict, key: str | None = None
) -> dict[str, Any]:
    """One accept's statements; returns the payment row."""
    now = utcnow()
    row = {
        "id": ids.new_id(ids.PAYMENT),
        "merchant_id": merchant_id,
        "order_id": body["order_id"],
        "amount": body["amount"],
        "currency": body["currency"],
        "method": body["method"],
        "status": "PENDING",
        "vpa": body.get("vpa"),
        "card": None,
        "bank": None,
        "wallet": None,
        "description": None,
        "metadata": {},
        "amount_refunded": 0,
        "attempts": 0,
        "failure_code": None,
        "failure_message": None,
        "connector": None,
        "outcome_unknown_since": None,
        "payment_link_id": None,
        "capture_method": "automatic",
        "amount_captured": None,
        "capture_before": None,
        "cancellation_reason": None,
        "created_at": now,
        "updated_at": now,
    }
    with db.pipelined_transaction(conn):
        if key is not None:
            conn.execute(CLAIM_KEY, {"merchant_id": merchant_id, "key": key, "ttl_s": TTL_S})
        conn.execute(
            INSERT_PAYMENT_WITH_HISTORY,
            {
                **row,
                "method_token": None,
                "metadata": Jsonb({}),
                "now": now,
            },
        )
        if key is not None:
            conn.execute(
                INSERT_RECORD,
                {
                    "merchant_id": merchant_id,
                    "key": key,
                    # keyed, as the gateway's fingerprint is (services.idempotency)
                    "request_hash": "hmac-sha256:"
                    + hmac.new(
                        settings.idempotency_hmac_key(), json.dumps(body).encode(), "sha256"
                    ).hexdigest(),
                    "status": 202,
                    "headers": Jsonb({}),
                    "body": json.dumps(row, default=str).encode(),
                },
            )
    redis.xadd(keys.PAYMENTS_STREAM, {"id": row["id"]})
    return row
