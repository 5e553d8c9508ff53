"""Processes by parent, read from /proc (Linux): what the soak and the tests kill."""

from __future__ import annotations

from pathlib import Path

PROC = Path("/proc")


def _stat(pid: int) -> tuple[int, str] | None:
    """(parent pid, command line) of `pid`, or None when it is gone."""
    try:
        stat = (PROC / str(pid) / "stat").read_text()
        cmdline = (PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return None
    # The command name is in parentheses and may hold spaces: the fields follow the last ')'.
    fields = stat[stat.rindex(")") + 2 :].split()
    if fields[0] == "Z":  # a zombie is dead already
        return None
    return int(fields[1]), cmdline.replace(b"\0", b" ").decode(errors="replace").strip()


def children(pid: int) -> list[tuple[int, str]]:
    """The live children of `pid`: (pid, command line), oldest first."""
    found = []
    for entry in PROC.iterdir():
        if entry.name.isdigit():
            info = _stat(int(entry.name))
            if info is not None and info[0] == pid:
                found.append((int(entry.name), info[1]))
    return sorted(found)


def child_running(pid: int, needle: str) -> int | None:
    """The pid of the first live child of `pid` whose command line contains `needle`."""
    return next((child for child, cmd in children(pid) if needle in cmd), None)


def alive(pid: int) -> bool:
    return _stat(pid) is not None
