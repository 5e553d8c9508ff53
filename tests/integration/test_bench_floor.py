"""The bench's accept floor (bench/floor.py) still issues the accept's statements.

It shares `INSERT_PAYMENT_WITH_HISTORY` with the service, so a column added to the
accept must be added to the floor too: manual capture added `capture_method` and the
floor raised `query parameter missing` in `make bench` until this test was written.
"""

from __future__ import annotations

import io
import json
import uuid

import pytest

from bench import floor_server
from bench.floor import connect, direct_accept
from chalicelib import db
from chalicelib import redis_keys as keys
from chalicelib.adapters.redis_client import get_redis
from chalicelib.services import merchants


def test_the_floor_stores_a_pending_payment_its_record_and_its_stream_entry():
    with db.transaction() as conn:
        merchant = merchants.create_merchant(conn, "Floor merchant")
    redis = get_redis()
    before = redis.xlen(keys.PAYMENTS_STREAM)
    body = {"order_id": f"floor_{uuid.uuid4().hex[:8]}", "amount": 1234, "currency": "INR",
            "method": "upi", "vpa": "success@upi"}  # fmt: skip
    key = f"k_{uuid.uuid4().hex}"
    with connect() as conn:
        row = direct_accept(conn, redis, merchant.merchant_id, body, key)
        stored = conn.execute("SELECT * FROM payments WHERE id = %s", (row["id"],)).fetchone()
        record = conn.execute(
            "SELECT response_status FROM idempotency_keys WHERE merchant_id = %s AND key = %s",
            (merchant.merchant_id, key),
        ).fetchone()
    assert stored is not None
    assert (stored["status"], stored["amount"], stored["capture_method"]) == (
        "PENDING", 1234, "automatic",
    )  # fmt: skip
    assert record is not None and record["response_status"] == 202
    assert redis.xlen(keys.PAYMENTS_STREAM) == before + 1


@pytest.mark.parametrize("factory", [floor_server.floor_app, floor_server.chalice_floor_app])
def test_both_http_floors_answer_202_with_the_stored_payment(factory):
    """The bare WSGI floor and the Chalice floor (`--chalice`) run the same accept."""
    with db.transaction() as conn:
        api_key = merchants.create_merchant(conn, "Floor server merchant").api_key
    order = {"order_id": f"fs_{uuid.uuid4().hex[:8]}", "amount": 777, "currency": "INR",
             "method": "upi", "vpa": "success@upi"}  # fmt: skip
    body = json.dumps(order).encode()
    statuses: list[str] = []
    environ = {
        "REQUEST_METHOD": "POST", "PATH_INFO": "/api/v1/payments", "QUERY_STRING": "",
        "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(len(body)),
        "HTTP_AUTHORIZATION": f"Bearer {api_key}", "HTTP_IDEMPOTENCY_KEY": uuid.uuid4().hex,
        "REMOTE_ADDR": "127.0.0.1", "wsgi.input": io.BytesIO(body),
    }  # fmt: skip
    answer = b"".join(factory()(environ, lambda status, headers: statuses.append(status)))
    payment = json.loads(answer)
    assert statuses == ["202 Accepted"]
    with db.connection() as conn:
        stored = conn.execute("SELECT amount FROM payments WHERE id = %s", (payment["id"],))
        assert stored.fetchone()["amount"] == 777
