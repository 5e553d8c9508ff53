"""Cold start: how long a fresh interpreter takes to import the app, against a floor.

`measure_cold_start_ms()` runs `python -X importtime -c "import app"` in new processes
and takes the cumulative import time of `app`: the work a Lambda init does before the
first event. The floor is the wall time of `python -c pass` in the same run, so a busy
machine shows in both.

Bytecode: every module is measured with its bytecode cached, as the venv's packages
already are. Where PYTHONDONTWRITEBYTECODE is set (CI), our own modules would otherwise
be compiled from source on every run while the dependencies are not, which measures
neither a steady state nor Lambda. The cache goes to a private temporary directory
(PYTHONPYCACHEPREFIX), written by a warm-up run that is not counted. (The deployment
zip holds no bytecode at all; `docs/deploy.md` gives that figure too.)
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RUNS = 5


def _environment(pycache: str | None) -> dict[str, str]:
    env = os.environ.copy()
    if pycache is not None:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = pycache
    return env


def import_ms(
    module: str = "app", python: str = sys.executable, pycache: str | None = None
) -> float:
    """Cumulative import time of `module` in a fresh interpreter, from -X importtime."""
    proc = subprocess.run(
        [python, "-X", "importtime", "-c", f"import {module}"],
        cwd=ROOT,
        env=_environment(pycache),
        capture_output=True,
        text=True,
        check=True,
    )
    for line in reversed(proc.stderr.splitlines()):
        parts = [p.strip() for p in line.removeprefix("import time:").split("|")]
        if len(parts) == 3 and parts[2] == module:
            return int(parts[1]) / 1000
    raise RuntimeError(f"no import time for {module}:\n{proc.stderr[-2000:]}")


def interpreter_ms(python: str = sys.executable, pycache: str | None = None) -> float:
    """Wall time of `python -c pass`: the floor no import can beat."""
    started = time.perf_counter()
    subprocess.run([python, "-c", "pass"], cwd=ROOT, env=_environment(pycache), check=True)
    return (time.perf_counter() - started) * 1000


def measure_cold_start_ms(runs: int = RUNS) -> dict[str, Any]:
    """Median of `runs` fresh-interpreter imports of the app, and its same-run floor."""
    values, floors = [], []
    with tempfile.TemporaryDirectory(prefix="cold-start-pycache-") as pycache:
        import_ms("app", pycache=pycache)  # compiles into the cache; not counted
        for _ in range(runs):  # interleaved, so load on the machine hits both alike
            floors.append(interpreter_ms(pycache=pycache))
            values.append(import_ms("app", pycache=pycache))
    value = statistics.median(values)
    floor = statistics.median(floors)
    return {
        "name": "cold_start_import",
        "value": round(value, 1),
        "unit": "ms",
        "floor": round(floor, 1),
        "ratio": round(value / floor, 2),
        "best_ms": round(min(values), 1),
    }


if __name__ == "__main__":
    print(measure_cold_start_ms())


ZIP_RUNS = 7
# Lambda's /var/task: a fresh interpreter, no site-packages, nothing written.
_ZIP_CHILD = "import sys; sys.path.insert(0, sys.argv[1]); import app"


def _unpack_read_only(zip_path: Path, dest: Path, with_bytecode: bool) -> Path:
    import zipfile

    task = dest / ("task-pyc" if with_bytecode else "task-source")
    with zipfile.ZipFile(zip_path) as zf:
        for name in zf.namelist():
            if with_bytecode or "__pycache__/" not in name:
                zf.extract(name, task)
    for path in sorted(task.rglob("*"), reverse=True):
        path.chmod(0o555 if path.is_dir() else 0o444)
    task.chmod(0o555)
    return task


def zip_import_ms(task: Path, python: str = sys.executable) -> float:
    """Cumulative import time of `app` from an unpacked zip, as Lambda imports it."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin"),
        "PYTHONDONTWRITEBYTECODE": "1",
        "LANG": "C.UTF-8",
    }
    proc = subprocess.run(
        [python, "-I", "-S", "-X", "importtime", "-c", _ZIP_CHILD, str(task)],
        cwd=task,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    for line in reversed(proc.stderr.splitlines()):
        parts = [p.strip() for p in line.removeprefix("import time:").split("|")]
        if len(parts) == 3 and parts[2] == "app":
            return int(parts[1]) / 1000
    raise RuntimeError(f"no import time for app:\n{proc.stderr[-2000:]}")


def measure_zip_cold_start_ms(zip_path: Path, runs: int = ZIP_RUNS) -> dict[str, Any]:
    """Median of `runs` imports of `app` from the read-only unpacked zip, with its
    bytecode (value) and without it (`without_bytecode_ms`: the zip as it was before)."""
    with tempfile.TemporaryDirectory(prefix="cold-start-zip-") as tmp:
        with_pyc = _unpack_read_only(zip_path, Path(tmp), with_bytecode=True)
        without = _unpack_read_only(zip_path, Path(tmp), with_bytecode=False)
        values, befores = [], []
        try:
            for _ in range(runs):  # interleaved, so load on the machine hits both alike
                values.append(zip_import_ms(with_pyc))
                befores.append(zip_import_ms(without))
        finally:
            for path in Path(tmp).rglob("*"):
                path.chmod(0o755 if path.is_dir() else 0o644)
    value, before = statistics.median(values), statistics.median(befores)
    return {
        "name": "cold_start_import_from_zip",
        "value": round(value, 1),
        "unit": "ms",
        "without_bytecode_ms": round(before, 1),
        "ratio": round(value / before, 2),
        "target_ms": 150,
    }


def build_zip(out: Path) -> Path:
    """`make package` into `out`; the CloudFormation deployment zip."""
    subprocess.run(
        [sys.executable, "-m", "infra.package", "--out-dir", str(out)],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    return out / "cloudformation" / "deployment.zip"
