"""SnapStart hooks, simulated: snapshot once, restore twice (fork), compare the copies."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CHILD = r"""
import json, os, random, sys
import snapshot_restore_py as hooks
import app  # noqa: F401  (init: registers the hooks through chalicelib)
from chalicelib import db, ids
from chalicelib.adapters import redis_client

run_restore = sys.argv[1] == "restore"
# Init used both clients, as a warm-up would.
with db.connection() as conn:
    init_pid = conn.execute("SELECT pg_backend_pid() AS pid").fetchone()["pid"]
redis_client.get_redis().ping()
random.random()

for func, args, kwargs in reversed(hooks.get_before_snapshot()):
    func(*args, **kwargs)
assert db._pool is None and redis_client._client is None, "connections survived the snapshot"
from chalicelib.api.endpoint import ROUTES
deferred = [m.__name__ for r in ROUTES for m in (r.body, r.query, r.response)
            if m is not None and not m.__pydantic_complete__]
assert not deferred, f"validators left to the first request after restore: {deferred}"

# A snapshot copies memory as it is; a fork runs random's at-fork reseed, so each
# child first puts back the state the snapshot would have held.
snapshot_random_state = random.getstate()
reader, writer = os.pipe()
children = []
for _ in range(2):  # two environments restored from the same snapshot
    pid = os.fork()
    if pid == 0:
        random.setstate(snapshot_random_state)
        if run_restore:
            for func, args, kwargs in hooks.get_after_restore():
                func(*args, **kwargs)
        # Drawn before the pool exists: its worker threads draw from random too (the
        # jitter of each new connection's lifetime), at moments that differ per child.
        drawn = [random.random() for _ in range(3)]
        with db.connection() as conn:
            backend = conn.execute("SELECT pg_backend_pid() AS pid").fetchone()["pid"]
        out = {"backend": backend, "redis": redis_client.get_redis().client_id(),
               "random": drawn, "ids": ids.new_ids("pay", 3)}
        os.write(writer, (json.dumps(out) + "\n").encode())
        db.close_pool()
        os._exit(0)
    children.append(pid)
for pid in children:
    os.waitpid(pid, 0)
os.close(writer)
lines = os.read(reader, 1 << 16).decode().splitlines()
print("RESULT " + json.dumps({"init_pid": init_pid, "envs": [json.loads(l) for l in lines]}))
"""


def _restore_twice(run_restore: bool) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, "restore" if run_restore else "none"],
        cwd=ROOT,
        env={**os.environ, "LOG_LEVEL": "WARNING"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    (line,) = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    return json.loads(line.removeprefix("RESULT "))


def test_restored_environments_share_no_connection_random_state_or_ids() -> None:
    result = _restore_twice(run_restore=True)
    first, second = result["envs"]
    assert first["backend"] != second["backend"]
    assert result["init_pid"] not in (first["backend"], second["backend"])
    assert first["redis"] != second["redis"]
    assert first["random"] != second["random"]
    assert not set(first["ids"]) & set(second["ids"])


def test_without_the_after_restore_hook_the_random_state_is_shared() -> None:
    """The simulation can fail: forks of one snapshot draw the same jitter unless reseeded."""
    first, second = _restore_twice(run_restore=False)["envs"]
    assert first["random"] == second["random"]
