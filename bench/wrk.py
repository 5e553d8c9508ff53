"""wrk, the compiled load generator: installed when missing, driven by bench/accept.lua.

One wrk thread drives 8 keep-alive connections from a C event loop, so the load
generator takes a small share of a core instead of the Python client's whole one.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Any

from infra import apt

SCRIPT = Path(__file__).with_name("accept.lua")
CONNECTIONS = 8


def ensure_wrk() -> str:
    """The wrk binary; installed from Debian's package when missing and root."""
    found = shutil.which("wrk")
    if found:
        return found
    apt.install("wrk", tag="bench")
    return shutil.which("wrk") or "wrk"


def run(url: str, api_key: str, seconds: float) -> dict[str, Any]:
    """POST payments for `seconds` over 8 keep-alive connections; wrk's summary as a dict
    (requests, seconds, status_errors, socket_errors, p50/p90/p99/max in ms) plus rate."""
    result = subprocess.run(
        [
            ensure_wrk(),
            "-t1",
            f"-c{CONNECTIONS}",
            f"-d{max(1, round(seconds))}s",
            "--timeout",
            "10s",
            "-s",
            str(SCRIPT),
            url,
            "--",
            api_key,
            uuid.uuid4().hex[:10],
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    summary["rate"] = summary["requests"] / summary["seconds"]
    return summary
