"""Round trips to Postgres per accepted payment, counted on the wire.

The app's pool is pointed at a TCP proxy that counts the client's bursts: a burst
is what the client sends before Postgres answers, so bursts are round trips (the
client waits for an answer between two of them). An accept sends BEGIN, the key's
claim, the INSERT, the record and the COMMIT in one burst: it answers with the row
as sent, so it waits for nothing in between. (Two bursts before, with the INSERT's
RETURNING waited for; seven before that.)
"""

from __future__ import annotations

import json
import socket
import threading
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from chalice.test import Client

import app as app_module
from chalicelib import db, settings
from tests.support import ROOT


class BurstCountingProxy:
    """Forwards one port to Postgres and counts the client's bursts."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.bursts = 0
        self._client_spoke_last = False
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.target)
            threading.Thread(target=self._pump, args=(client, server, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, False), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, from_client: bool) -> None:
        while True:
            try:
                data = source.recv(65536)
            except OSError:
                data = b""
            if not data:
                sink.close()
                return
            with self._lock:
                if from_client and not self._client_spoke_last:
                    self.bursts += 1
                self._client_spoke_last = from_client
            sink.sendall(data)

    def close(self) -> None:
        self.listener.close()


@pytest.fixture
def proxied_client(monkeypatch) -> Iterator[tuple[Client, BurstCountingProxy]]:
    parts = urlsplit(settings.database_url())
    proxy = BurstCountingProxy(parts.hostname or "127.0.0.1", parts.port or 5432)
    netloc = parts.netloc.rsplit(":", 1)[0] + f":{proxy.port}"
    monkeypatch.setenv("DATABASE_URL", urlunsplit(parts._replace(netloc=netloc)))
    db.close_pool()
    settings.reset_settings()
    try:
        with Client(app_module.app, stage_name="test", project_dir=str(ROOT)) as client:
            yield client, proxy
    finally:
        db.close_pool()
        monkeypatch.undo()
        settings.reset_settings()
        proxy.close()


def _accept(client: Client, api_key: str, key: str | None) -> int:
    headers = {"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"}
    if key is not None:
        headers["Idempotency-Key"] = key
    body = {"order_id": f"rt_{uuid.uuid4().hex}", "amount": 500, "currency": "INR", "method": "upi"}
    response = client.http.post("/api/v1/payments", headers=headers, body=json.dumps(body))
    assert response.status_code == 202, response.body
    return response.status_code


@pytest.mark.parametrize("keyed", [True, False], ids=["with_key", "without_key"])
def test_an_accept_costs_one_round_trip(proxied_client, merchant, keyed):
    client, proxy = proxied_client
    _accept(client, merchant.api_key, f"k_{uuid.uuid4().hex}")  # pool, auth cache, plans
    before = proxy.bursts
    _accept(client, merchant.api_key, f"k_{uuid.uuid4().hex}" if keyed else None)
    assert proxy.bursts - before == 1


def _post(client: Client, api_key: str, body: dict, key: str | None = None) -> Any:
    headers = {"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"}
    if key is not None:
        headers["Idempotency-Key"] = key
    return client.http.post("/api/v1/payments", headers=headers, body=json.dumps(body))


def test_the_answer_is_the_row_as_stored(proxied_client, merchant):
    """The 202 is rendered from the row as sent, not read back: what a GET reads from
    the database right after is the same object, field for field."""
    client, _proxy = proxied_client
    bodies = [
        {"order_id": f"rt_{uuid.uuid4().hex}", "amount": 1, "currency": "INR", "method": "upi"},
        {
            "order_id": f"rt_{uuid.uuid4().hex}",
            "amount": 123_456,
            "currency": "INR",
            "method": "card",
            "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2040, "cvc": "123"},
            "description": "Ünïcode 📦",
            "metadata": {"zeta": "1", "a": "ü", "long_key_name": ""},
        },
        {
            "order_id": f"rt_{uuid.uuid4().hex}",
            "amount": 5,
            "currency": "INR",
            "method": "netbanking",
            "bank": "HDFC",
        },
        {
            "order_id": f"rt_{uuid.uuid4().hex}",
            "amount": 5,
            "currency": "INR",
            "method": "wallet",
            "wallet": "paytm",
        },
        {
            "order_id": f"rt_{uuid.uuid4().hex}",
            "amount": 5,
            "currency": "INR",
            "method": "upi",
            "vpa": "success@upi",
            "capture_method": "manual",
        },
    ]
    for body in bodies:
        created = _post(client, merchant.api_key, body, f"k_{uuid.uuid4().hex}")
        assert created.status_code == 202, created.body
        answer = json.loads(created.body)
        stored = client.http.get(
            f"/api/v1/payments/{answer['id']}",
            headers={"Authorization": f"Bearer {merchant.api_key}"},
        )
        read_back = json.loads(stored.body)
        assert answer.pop("message") == "Payment initiated successfully"
        assert answer == read_back


def test_a_second_active_payment_for_the_order_is_refused_and_keeps_the_key_free(
    proxied_client, merchant
):
    """The order's conflict arrives with the COMMIT, after the view returned: still the
    documented 409 naming the active payment, nothing written under the key (its
    record was sent after the refused INSERT), and the key free for a retry."""
    client, _proxy = proxied_client
    order = f"rt_{uuid.uuid4().hex}"
    body = {"order_id": order, "amount": 9, "currency": "INR", "method": "upi"}
    first = json.loads(_post(client, merchant.api_key, body).body)
    key = f"k_{uuid.uuid4().hex}"
    for _ in range(2):  # the key was not recorded: the same 409 again, not a replay
        refused = _post(client, merchant.api_key, body, key)
        assert refused.status_code == 409, refused.body
        assert "Idempotent-Replayed" not in refused.headers
        error = json.loads(refused.body)["error"]
        assert error["code"] == "order_has_active_payment"
        assert error["payment_id"] == first["id"]
    with db.connection() as conn:
        recorded = conn.execute(
            "SELECT count(*) AS n FROM idempotency_keys WHERE merchant_id = %s AND key = %s",
            (merchant.merchant_id, key),
        ).fetchone()["n"]
        history = conn.execute(
            "SELECT count(*) AS n FROM payment_history h JOIN payments p ON p.id = h.payment_id"
            " WHERE p.merchant_id = %s AND p.order_id = %s",
            (merchant.merchant_id, order),
        ).fetchone()["n"]
    assert (recorded, history) == (0, 1)
    cancel = client.http.post(
        f"/api/v1/payments/{first['id']}/cancel",
        headers={"Authorization": f"Bearer {merchant.api_key}"},
    )
    assert cancel.status_code == 200, cancel.body
    retried = _post(client, merchant.api_key, body, key)
    assert retried.status_code == 202, retried.body


def test_a_refused_claim_stops_the_insert_sent_with_it(proxied_client, merchant):
    """The claim travels with the INSERT; when it is refused (the key is recorded), the
    transaction is aborted on the server and the INSERT never runs: the second order
    does not exist, even for a moment that a later commit could keep."""
    client, _proxy = proxied_client
    key = f"k_{uuid.uuid4().hex}"
    headers = {
        "Authorization": f"Bearer {merchant.api_key}",
        "Content-Type": "application/json",
        "Idempotency-Key": key,
    }
    first_order, second_order = f"rt_{uuid.uuid4().hex}", f"rt_{uuid.uuid4().hex}"
    for order_id, status in ((first_order, 202), (second_order, 400)):
        body = {"order_id": order_id, "amount": 7, "currency": "INR", "method": "upi"}
        response = client.http.post("/api/v1/payments", headers=headers, body=json.dumps(body))
        assert response.status_code == status, response.body
    assert json.loads(response.body)["error"]["code"] == "idempotency_key_reused"
    with db.connection() as conn:
        orders = conn.execute(
            "SELECT order_id FROM payments WHERE merchant_id = %s", (merchant.merchant_id,)
        ).fetchall()
    assert [r["order_id"] for r in orders] == [first_order]
