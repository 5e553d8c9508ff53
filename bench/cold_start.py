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
#: The issue's target for `value` (the app from the read-only zip, with its bytecode).
TARGET_MS = 150
#: The same figure before the models were deferred (median of 7 on this machine, quiet).
BEFORE_MS = 312
# Lambda's /var/task: a fresh interpreter, no site-packages, nothing written.
_ZIP_CHILD = "import sys; sys.path.insert(0, sys.argv[1]); import {module}"
#: Floors, each imported alone from the same zip: what `import app` cannot go below.
ZIP_FLOORS = {"chalice_ms": "chalice", "pydantic_ms": "pydantic.main"}


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


def _zip_env() -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin"),
        "PYTHONDONTWRITEBYTECODE": "1",
        "LANG": "C.UTF-8",
    }


def zip_import_ms(task: Path, module: str = "app", python: str = sys.executable) -> float:
    """Cumulative import time of `module` from an unpacked zip, as Lambda imports it."""
    code = _ZIP_CHILD.format(module=module)
    proc = subprocess.run(
        [python, "-I", "-S", "-X", "importtime", "-c", code, str(task)],
        cwd=task,
        env=_zip_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    for line in reversed(proc.stderr.splitlines()):
        parts = [p.strip() for p in line.removeprefix("import time:").split("|")]
        if len(parts) == 3 and parts[2] == module:
            return int(parts[1]) / 1000
    raise RuntimeError(f"no import time for {module}:\n{proc.stderr[-2000:]}")


def zip_interpreter_ms(task: Path, python: str = sys.executable) -> float:
    """Wall time of the same interpreter doing nothing (`-I -S -c pass`)."""
    started = time.perf_counter()
    subprocess.run([python, "-I", "-S", "-c", "pass"], cwd=task, env=_zip_env(), check=True)
    return (time.perf_counter() - started) * 1000


def measure_zip_cold_start_ms(zip_path: Path, runs: int = ZIP_RUNS) -> dict[str, Any]:
    """Median of `runs` imports of `app` from the read-only unpacked zip, with its
    bytecode (value) and without it (`without_bytecode_ms`), beside the floors measured
    in the same rounds: `chalice` and `pydantic.main` imported alone from the zip, and
    the empty interpreter's wall time."""
    with tempfile.TemporaryDirectory(prefix="cold-start-zip-") as tmp:
        with_pyc = _unpack_read_only(zip_path, Path(tmp), with_bytecode=True)
        without = _unpack_read_only(zip_path, Path(tmp), with_bytecode=False)
        samples: dict[str, list[float]] = {"value": [], "without_bytecode_ms": []}
        samples |= {name: [] for name in (*ZIP_FLOORS, "interpreter_ms")}
        try:
            for _ in range(runs):  # interleaved, so load on the machine hits all alike
                samples["value"].append(zip_import_ms(with_pyc))
                samples["without_bytecode_ms"].append(zip_import_ms(without))
                for name, module in ZIP_FLOORS.items():
                    samples[name].append(zip_import_ms(with_pyc, module))
                samples["interpreter_ms"].append(zip_interpreter_ms(with_pyc))
        finally:
            for path in Path(tmp).rglob("*"):
                path.chmod(0o755 if path.is_dir() else 0o644)
    medians = {name: round(statistics.median(v), 1) for name, v in samples.items()}
    return {
        "name": "cold_start_import_from_zip",
        "unit": "ms",
        **medians,
        "best_ms": round(min(samples["value"]), 1),
        "chalice_best_ms": round(min(samples["chalice_ms"]), 1),
        "floor": medians["chalice_ms"],
        "ratio": round(medians["value"] / medians["chalice_ms"], 2),
        "target_ms": TARGET_MS,
        "before_ms": BEFORE_MS,
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
