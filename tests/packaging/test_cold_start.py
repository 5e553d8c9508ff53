"""Cold start: importing the app in a fresh interpreter stays within 300 ms here."""

from __future__ import annotations

import subprocess
import sys
import time

from bench.cold_start import ROOT, measure_cold_start_ms

BUDGET_MS = 300
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
    "chalicelib.services.batch",
)


def test_app_imports_within_the_cold_start_budget() -> None:
    # The best of 7 fresh interpreters: load on this shared 2-core machine only ever adds
    # time, so the minimum is what the import itself costs (`make bench` reports the
    # median and its floor). The machine also has slow spells of a few seconds in which
    # every run is ~40% slower (best of 7 measured 213-306 ms within a minute), so up
    # to three windows are measured, a few seconds apart; a real regression fails all.
    figures = []
    for _ in range(3):
        figures.append(measure_cold_start_ms(runs=7))
        if figures[-1]["best_ms"] <= BUDGET_MS:
            return
        time.sleep(3)
    raise AssertionError(f"cold start over {BUDGET_MS} ms in every window: {figures}")


def test_heavy_modules_are_not_imported_with_the_app() -> None:
    code = f"import sys, app; print([m for m in {LAZY!r} if m in sys.modules])"
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert proc.stdout.strip() == "[]", proc.stdout
