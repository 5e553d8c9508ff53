"""`make reset`: drop the local stack's data and start the next `make run` clean.

Stops the local services, then deletes what `.stack/` holds: the Postgres cluster (every
database: make run's, the tests', the bench's), Redis's data, the emulator's state and
keys, the acquirer's books, the local merchant's keys and the logs. Asks first, unless
FORCE=1 (`--force`). With the Docker stack, `docker compose down --volumes` does the
same for its volumes. Refuses while this checkout's `make run` is running: stop it first.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess  # nosec B404
import sys
from collections.abc import Callable
from pathlib import Path

from infra.stack_base import ROOT, STACK_DIR, log


def running_make_run(root: Path = ROOT) -> list[int]:
    """Pids of `workers.run` processes whose working directory is this checkout."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().split(b"\0")
            cwd = (proc / "cwd").resolve()
        except OSError:
            continue
        if b"workers.run" in cmdline and cwd == root:
            found.append(int(proc.name))
    return found


def reset(
    force: bool,
    answer: str | None = None,
    stack_dir: Path = STACK_DIR,
    stop: Callable[[], None] | None = None,
) -> int:
    """Stop the services (`stop`, the stack's `down` by default) and delete `stack_dir`."""
    busy = running_make_run()
    if busy:
        log(f"make run is running (pid {busy[0]}): stop it with Ctrl-C first")
        return 1
    if not force:
        question = (
            "This deletes every local database, Redis's data, the emulator's state and the"
            f" acquirer's books under {stack_dir}. Type 'yes' to go on: "
        )
        print(question, end="", flush=True)
        reply = answer if answer is not None else sys.stdin.readline()
        if reply.strip().lower() != "yes":
            log("nothing deleted")
            return 1
    if stop is None:
        from infra.stack import down as stop

        if shutil.which("docker") and _compose_running():
            subprocess.run(["docker", "compose", "down", "--volumes"], cwd=ROOT, check=False)  # nosec B603 B607
    stop()
    if stack_dir.exists():
        shutil.rmtree(stack_dir)
    log(f"removed {stack_dir}: the next make run starts from an empty stack")
    return 0


def _compose_running() -> bool:
    try:
        ps = subprocess.run(  # nosec B603 B607
            ["docker", "compose", "ps", "-q"], cwd=ROOT, capture_output=True, timeout=10
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return ps.returncode == 0 and bool(ps.stdout.strip())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="do not ask")
    args = parser.parse_args(argv)
    return reset(args.force)


if __name__ == "__main__":
    sys.exit(main())
