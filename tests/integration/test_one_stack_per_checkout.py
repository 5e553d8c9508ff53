"""One stack per checkout (issue 29): a second checkout's stack refuses this one's
ports, naming the variable to change, and runs beside it on other ports."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from infra.stack_base import PG_PORT
from tests.support import ROOT, free_port


def _stack(checkout: Path, action: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "infra.stack", action],
        cwd=checkout, env=env, capture_output=True, text=True, timeout=240, check=False,
    )  # fmt: skip


def test_a_second_checkout_refuses_the_first_ones_ports_and_runs_beside_it(
    tmp_path: Path,
) -> None:
    other = tmp_path / "other-checkout"
    subprocess.run(["git", "clone", "-q", "--local", str(ROOT), str(other)], check=True)
    # A fresh shell of the other checkout: none of this stack's URLs, but the same ports
    # (GATEWAY_*_PORT, if this stack was moved off the defaults).
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL", "AWS_ENDPOINT_URL", "ACQUIRER_URL")
    }
    env["GATEWAY_NO_DOCKER"] = "1"

    refused = _stack(other, "up", env)
    if refused.returncode == 0:  # it should not have started: stop what it started
        _stack(other, "down", env)
    assert refused.returncode != 0
    assert f"port {PG_PORT} answers, but not with this checkout's postgres" in refused.stderr
    assert "GATEWAY_PG_PORT=" in refused.stderr
    assert not (other / ".stack" / "postgres").exists(), "it started nothing of its own"

    ports = {
        "GATEWAY_PG_PORT": free_port(),
        "GATEWAY_REDIS_PORT": free_port(),
        "GATEWAY_AWS_PORT": free_port(),
        "GATEWAY_ACQUIRER_PORT": free_port(),
    }
    beside = {**env, **{k: str(v) for k, v in ports.items()}}
    try:
        started = _stack(other, "up", beside)
        assert started.returncode == 0, started.stderr
        urls = json.loads(started.stdout.strip().splitlines()[-1])
        assert f":{ports['GATEWAY_PG_PORT']}/" in urls["DATABASE_URL"]
        assert f":{ports['GATEWAY_REDIS_PORT']}/" in urls["REDIS_URL"]
    finally:
        stopped = _stack(other, "down", beside)
        assert stopped.returncode == 0, stopped.stderr
    # This checkout's stack was not touched: its database still answers.
    from chalicelib import db

    with db.connection() as conn:
        assert conn.execute("SELECT 1 AS one").fetchone()["one"] == 1
