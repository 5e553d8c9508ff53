"""What the stack's servers spend: Postgres CPU seconds and Redis commands, between two reads.

Postgres: the postmaster of this checkout's stack (`.stack/postgres/postmaster.pid`) and
its live children, plus what the postmaster has reaped from children that exited
(`cutime`/`cstime`), so backends that ended during a phase are counted too.
Redis: the total of `INFO commandstats` calls but INFO's (every db of this checkout's
server).
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TICKS = os.sysconf("SC_CLK_TCK")


def postmaster_pid() -> int:
    pid_file = ROOT / ".stack" / "postgres" / "postmaster.pid"
    return int(pid_file.read_text().split()[0])


def _stat(pid: int) -> list[str]:
    text = Path(f"/proc/{pid}/stat").read_text()
    return text[text.rindex(")") + 2 :].split()  # fields from the 3rd (state) on


def postgres_cpu_s(postmaster: int | None = None) -> float:
    """CPU seconds spent so far by the stack's Postgres (all its processes, ever)."""
    root = postmaster or postmaster_pid()
    fields = _stat(root)
    # utime, stime, cutime, cstime are fields 14-17 (indexes 11-14 from the state field)
    ticks = sum(int(f) for f in fields[11:15])
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == root:
            continue
        try:
            child = _stat(int(entry.name))
        except (FileNotFoundError, ProcessLookupError, ValueError):
            continue
        if int(child[1]) == root:  # ppid
            ticks += int(child[11]) + int(child[12])
    return ticks / TICKS


def redis_commands() -> int:
    """Commands the stack's Redis has executed so far."""
    from chalicelib.adapters.redis_client import get_redis

    stats = get_redis().info("commandstats")
    # not counting the INFO commands that read it
    return sum(int(v["calls"]) for k, v in stats.items() if k != "cmdstat_info")
