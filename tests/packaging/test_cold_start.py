"""Cold start: importing the app in a fresh interpreter stays within 300 ms here."""

from __future__ import annotations

import subprocess
import sys

from tests.packaging.cold_start import ROOT, best_cold_start_ms

BUDGET_MS = 300
#: `python -c pass` on this machine when it is quiet (medians measured 17-26 ms).
QUIET_FLOOR_MS = 25.0
# Imported on first use only: boto3 outside prod never; the clients, the settings and
# the batch service when a handler first needs them.
LAZY = (
    "boto3",
    "botocore",
    "psycopg",
    "psycopg_pool",
    "redis",
    "asyncio",
    "pydantic_settings",
    "chalicelib.settings",
    "chalicelib.queue.handler",
)


def test_app_imports_within_the_cold_start_budget() -> None:
    """At most 300 ms here, judged on the best of 7 fresh interpreters.

    Load only ever adds time, so the minimum is what the import itself costs. This
    shared 2-core machine also has slow spells in which everything, `python -c pass`
    included, runs up to ~1.6x slower (the same import measured 213 ms and 385 ms
    twenty minutes apart). In such a window the bound is the same budget as a ratio
    to that floor measured in the same run: 300 ms over the 25 ms the floor takes
    when the machine is quiet. A real regression fails both.
    """
    windows = []
    for _ in range(3):  # back to back: each window itself lasts a few seconds
        best_ms, floor_ms = best_cold_start_ms(runs=7)
        windows.append({"best_ms": round(best_ms, 1), "floor_ms": round(floor_ms, 1)})
        if best_ms <= BUDGET_MS or best_ms / floor_ms <= BUDGET_MS / QUIET_FLOOR_MS:
            return
    raise AssertionError(f"cold start over budget in every window: {windows}")


def test_heavy_modules_are_not_imported_with_the_app() -> None:
    code = f"import sys, app; print([m for m in {LAZY!r} if m in sys.modules])"
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert proc.stdout.strip() == "[]", proc.stdout
