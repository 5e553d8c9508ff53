"""Every shell block of the README, pasted into a fresh shell while `make run` is going.

`workers.run` (what `make run` runs) serves the API with the scheduler and prints a
merchant's key. Each ```sh block then runs in `bash -e` from the repository root with
nothing in its environment but PATH, HOME and the stack's settings file
(GATEWAY_STACK_ENV, the file `make test`'s stack wrote). The README's placeholders are
filled the way a reader would: the printed key, the created payment's id, the port.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from infra import stack_env
from tests.support import ROOT, MakeRun, free_port, make_run, wait_until

README = ROOT / "README.md"
BLOCK = re.compile(r"^```sh\n(.*?)^```", re.MULTILINE | re.DOTALL)
# The README's cancel example cancels a down@upi payment while it waits for a retry:
# the answer must be the payment, CANCELLED. It is PENDING but for the few milliseconds
# of each attempt, so the block is pasted again (a reader would) if it caught one.
CANCEL_TRIES = 5


def shell_blocks() -> list[str]:
    return [
        b for b in BLOCK.findall(README.read_text()) if not re.search(r"^make (run|test)", b, re.M)
    ]


def json_documents(text: str) -> list[dict]:
    """Every JSON document in the output (curl prints them back to back)."""
    decoder, documents, index = json.JSONDecoder(), [], 0
    text = text.strip()
    while index < len(text):
        document, index = decoder.raw_decode(text, index)
        documents.append(document)
        while index < len(text) and text[index].isspace():
            index += 1
    return documents


@pytest.fixture
def running(tmp_path: Path) -> Iterator[MakeRun]:
    with make_run(tmp_path / "run.log") as run:
        yield run


def fresh_shell_env(tmp_path: Path) -> dict[str, str]:
    database = urlsplit(os.environ["DATABASE_URL"]).path.lstrip("/")
    settings = stack_env.path_for(database)
    if not settings.exists():  # pytest run by hand against given URLs: write what a stack writes
        settings = tmp_path / "stack.env"
        settings.write_text(
            "".join(f"{k}={os.environ[k]}\n" for k in stack_env.KEYS if os.environ.get(k))
        )
    return {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/root"),
        "GATEWAY_STACK_ENV": str(settings),
    }


def test_every_readme_command_works_from_a_fresh_shell(running, tmp_path: Path) -> None:
    port, key = running.port, running.api_key
    env = fresh_shell_env(tmp_path)
    exports = ""
    payment_id = None
    blocks = shell_blocks()
    assert any("make admin" in b for b in blocks) and any("make scheduler" in b for b in blocks)
    assert sum("curl" in b for b in blocks) >= 5
    assert any("gateway_client" in b for b in blocks), "the worked example uses the client"
    hook_port = free_port()
    receiver = None
    try:
        for block in blocks:
            script = (
                block.replace("127.0.0.1:8000", f"127.0.0.1:{port}")
                .replace("127.0.0.1:9000", f"127.0.0.1:{hook_port}")
                .replace("sk_test_...", key)
            )
            if "pay_..." in script:
                assert payment_id, "the README uses a payment before creating one"
                script = script.replace("pay_...", payment_id)
                # "within a second or two the scheduler has made it SUCCESS" (make run's scheduler)
                wait_until(lambda p=payment_id: _status(port, key, p) == "SUCCESS", timeout=30)
            exports += "".join(
                f"{line}\n" for line in script.splitlines() if line.startswith("export ")
            )
            for attempt in range(CANCEL_TRIES if "/cancel" in block else 1):
                pasted = script.replace("order_1003", f"order_1003_{attempt}")  # a new order
                result = subprocess.run(
                    ["bash", "-e", "-c", exports + "\n" + pasted], cwd=ROOT, env=env,
                    capture_output=True, text=True, timeout=120,
                )  # fmt: skip
                assert result.returncode == 0, (block, result.stdout, result.stderr)
                documents = json_documents(result.stdout)
                if "/cancel" not in block or documents[-1].get("status") == "CANCELLED":
                    break
            if re.search(r"^([A-Z]+=\$\()?(curl|make) |gateway_client", block, re.M):
                assert documents, (block, result.stdout, result.stderr)
            for document in documents:
                assert "error" not in document, (block, document)
                if document.get("object") == "payment" and payment_id is None:
                    payment_id = document["id"]
                    assert payment_id.startswith("pay_") and document["status"] == "PENDING"
            if "/cancel" in block:
                assert documents[-1]["status"] == "CANCELLED", (block, documents)
            if "gateway_client" in block:  # the client's refund, then the payments it listed
                assert [d["object"] for d in documents] == ["refund", "list"], documents
                assert documents[1]["data"] and documents[0]["amount"] == 5000, documents
            if "/webhook_endpoints" in block:
                receiver = _receiver_delivers(documents[0], hook_port, port, key, tmp_path)
        assert payment_id is not None
        assert receiver is not None, "the README registers no webhook endpoint"
    finally:
        if receiver is not None:
            receiver.terminate()
            receiver.wait(timeout=10)
        with httpx.Client(
            base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {key}"}
        ) as api:
            for endpoint in api.get("/api/v1/webhook_endpoints", params={"limit": 100}).json()[
                "data"
            ]:
                api.delete(f"/api/v1/webhook_endpoints/{endpoint['id']}")


def _receiver_delivers(
    endpoint: dict, hook_port: int, port: int, key: str, tmp_path: Path
) -> subprocess.Popen:
    """`make webhook-receiver SECRET=...` as the README says, and a payment made after
    the endpoint: its `payment.succeeded` reaches the receiver, verified."""
    assert endpoint["object"] == "webhook_endpoint" and endpoint["secret"].startswith("whsec_")
    log = tmp_path / "receiver.log"
    with open(log, "wb") as out:
        receiver = subprocess.Popen(
            ["make", "-s", "webhook-receiver", f"SECRET={endpoint['secret']}",
             f"ARGS=--port {hook_port}"],
            cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    wait_until(lambda: "listening" in log.read_text(), timeout=60)
    created = httpx.post(
        f"http://127.0.0.1:{port}/api/v1/payments",
        headers={"Authorization": f"Bearer {key}"},
        json={"order_id": "readme_hook", "amount": 100, "currency": "INR", "method": "upi",
              "vpa": "success@upi"},
    ).json()  # fmt: skip
    wait_until(lambda: f"payment.succeeded {created['id']}" in log.read_text(), timeout=60)
    assert "verified evt_" in log.read_text()
    return receiver


def _status(port: int, key: str, payment_id: str) -> str | None:
    response = httpx.get(
        f"http://127.0.0.1:{port}/api/v1/payments/{payment_id}",
        headers={"Authorization": f"Bearer {key}"},
    )
    return response.json().get("status")
