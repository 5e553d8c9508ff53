"""Cold start: importing the app in a fresh interpreter stays within 300 ms here."""

from __future__ import annotations

import subprocess
import sys

from tests.packaging.cold_start import ROOT, best_cold_start_ms, zip_best_ms
from tests.packaging.conftest import Package

BUDGET_MS = 300
#: `python -c pass` on this machine when it is quiet (medians measured 17-26 ms).
QUIET_FLOOR_MS = 25.0
# Imported on first use only: boto3 outside prod never; the clients, the settings and
# the batch service when a handler first needs them; pydantic, the models and the
# services by the first request (routes name their models: chalicelib/api/endpoint.py);
# asyncio by the first charge; dataclasses (it imports inspect) by the first request.
LAZY = (
    "boto3",
    "botocore",
    "psycopg",
    "psycopg_pool",
    "redis",
    "asyncio",
    "pydantic",
    "pydantic_core",
    "pydantic_settings",
    "dataclasses",
    "inspect",
    "chalicelib.models.common",
    "chalicelib.services.payments",
    "chalicelib.connectors",
    "chalicelib.settings",
    "chalicelib.handlers.process_payments",
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


#: `import app` from the zip over `import chalice` from the same zip, same rounds. The
#: app needs Chalice; what it adds on top is our code and the standard library it uses.
#: Measured here (medians, loaded machine): 0.9-1.3 with the models deferred, 4.3-6.4
#: before (pydantic and every model at import).
MAX_RATIO_TO_CHALICE = 2.0


def test_the_zip_imports_the_app_close_to_chalice_alone(package: Package) -> None:
    """Lambda's import (read-only zip, its bytecode, PYTHONDONTWRITEBYTECODE) costs at
    most twice Chalice's own import: pydantic and the models wait for the first request."""
    figure = zip_best_ms(package.zip_path, runs=5)
    # Bests, not medians: load only adds time, and hits two interleaved series unevenly.
    assert figure["best_ms"] <= MAX_RATIO_TO_CHALICE * figure["chalice_best_ms"], figure
