"""`make webhook-receiver` (workers/webhook_receiver.py), as the README's example uses it:
a delivery signed with the endpoint's secret is verified and printed; one signed with
another secret is refused (400), so the gateway would retry it."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx

from chalicelib.handlers import deliver_webhooks
from tests.e2e.helpers import create_payment
from tests.support import ROOT, FakeContext, free_port, wait_until


def test_the_receiver_verifies_and_prints_deliveries(
    api: httpx.Client, run_processor, tmp_path: Path
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/hooks"
    created = api.post(
        "/api/v1/webhook_endpoints", json={"url": url, "events": ["payment.succeeded"]}
    ).json()
    log = tmp_path / "receiver.log"
    with open(log, "wb") as out:
        receiver = subprocess.Popen(
            [sys.executable, "-m", "workers.webhook_receiver", "--port", str(port),
             "--secret", created["secret"]],
            cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        wait_until(lambda: "listening" in log.read_text(), timeout=20)
        payment = create_payment(api, vpa="success@upi")
        wait_until(lambda: run_processor(30) and _status(api, payment["id"]) == "SUCCESS")

        def delivered() -> bool:
            deliver_webhooks.deliver_webhooks(FakeContext(20))
            return f"payment.succeeded {payment['id']}" in log.read_text()

        # Other tests' deliveries are due in the same table and go first (oldest first).
        wait_until(delivered, timeout=120)
        assert "verified evt_" in log.read_text()
        # A delivery signed under another secret is refused, and says why.
        forged = httpx.post(
            url,
            content=b'{"type": "payment.succeeded"}',
            headers={"webhook-id": "msg_1", "webhook-timestamp": str(int(time.time())),
                     "webhook-signature": "v1,AAAA"},
        )  # fmt: skip
        assert forged.status_code == 400
        assert "refused:" in log.read_text()
    finally:
        receiver.terminate()
        receiver.wait(timeout=10)
        api.delete(f"/api/v1/webhook_endpoints/{created['id']}")


def _status(api: httpx.Client, payment_id: str) -> str:
    return api.get(f"/api/v1/payments/{payment_id}").json()["status"]


def test_the_receiver_wants_a_secret() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "workers.webhook_receiver"],
        cwd=ROOT, capture_output=True, text=True, timeout=30, env={"PATH": "/usr/bin"},
    )  # fmt: skip
    assert result.returncode == 2 and "SECRET=whsec_" in result.stdout
