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
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from infra import stack_env
from tests.conftest import free_port, wait_until

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
BLOCK = re.compile(r"^```sh\n(.*?)^```", re.MULTILINE | re.DOTALL)
# The README says so: cancelling a payment that is no longer PENDING is a 409.
EXPECTED_ERRORS = {"/cancel": "payment_not_cancellable"}


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
def make_run(tmp_path: Path) -> Iterator[tuple[int, str]]:
    """`workers.run` on a free port: (port, the API key it printed)."""
    port = free_port()
    log = tmp_path / "run.log"
    env = {**os.environ, "PORT": str(port), "STAGE": "test"}
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "workers.run"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        key = wait_until(
            lambda: re.search(r"API key:\s+(sk_test_\S+)", log.read_text()), timeout=60
        )
        wait_until(lambda: _healthy(port), timeout=60)
        yield port, key.group(1)
    finally:
        process.terminate()
        process.wait(timeout=30)


def _healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


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


def test_every_readme_command_works_from_a_fresh_shell(make_run, tmp_path: Path) -> None:
    port, key = make_run
    env = fresh_shell_env(tmp_path)
    exports = ""
    payment_id = None
    blocks = shell_blocks()
    assert any("make admin" in b for b in blocks) and any("make scheduler" in b for b in blocks)
    assert sum("curl" in b for b in blocks) >= 8
    try:
        for block in blocks:
            script = block.replace("127.0.0.1:8000", f"127.0.0.1:{port}").replace(
                "sk_test_...", key
            )
            if "pay_..." in script:
                assert payment_id, "the README uses a payment before creating one"
                script = script.replace("pay_...", payment_id)
                # "within a second or two the scheduler has made it SUCCESS" (make run's scheduler)
                wait_until(lambda p=payment_id: _status(port, key, p) == "SUCCESS", timeout=30)
            exports += "".join(
                f"{line}\n" for line in script.splitlines() if line.startswith("export ")
            )
            result = subprocess.run(
                ["bash", "-e", "-c", exports + "\n" + script], cwd=ROOT, env=env,
                capture_output=True, text=True, timeout=120,
            )  # fmt: skip
            assert result.returncode == 0, (block, result.stdout, result.stderr)
            documents = json_documents(result.stdout)
            if re.search(r"^(curl|make) ", block, re.M):
                assert documents, (block, result.stdout, result.stderr)
            allowed = {code for marker, code in EXPECTED_ERRORS.items() if marker in block}
            for document in documents:
                if "error" in document:
                    assert (
                        isinstance(document["error"], dict) and document["error"]["code"] in allowed
                    ), (block, document)
                if document.get("object") == "payment" and payment_id is None:
                    payment_id = document["id"]
                    assert payment_id.startswith("pay_") and document["status"] == "PENDING"
        assert payment_id is not None
    finally:
        with httpx.Client(
            base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {key}"}
        ) as api:
            for endpoint in api.get("/api/v1/webhook_endpoints", params={"limit": 100}).json()[
                "data"
            ]:
                api.delete(f"/api/v1/webhook_endpoints/{endpoint['id']}")


def _status(port: int, key: str, payment_id: str) -> str | None:
    response = httpx.get(
        f"http://127.0.0.1:{port}/api/v1/payments/{payment_id}",
        headers={"Authorization": f"Bearer {key}"},
    )
    return response.json().get("status")
