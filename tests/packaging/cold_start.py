"""The cold-start measurement the packaging tests judge: importing `app` in fresh
interpreters, against `python -c pass` measured in the same run.

(`bench/cold_start.py` reports the same figure in `make bench`; the two do not import
each other, so a benchmark change cannot change what a test asserts, nor the reverse.)
Our modules are measured with their bytecode cached in a private directory, as the
venv's packages already are, even where PYTHONDONTWRITEBYTECODE is set.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.lambda_task import unpack_read_only

ROOT = Path(__file__).resolve().parents[2]


def _environment(pycache: str) -> dict[str, str]:
    env = os.environ.copy()
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = pycache
    return env


def import_ms(pycache: str, module: str = "app") -> float:
    """Cumulative import time of `module` in a fresh interpreter, from -X importtime."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
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
    raise AssertionError(f"no import time for {module}:\n{proc.stderr[-2000:]}")


def interpreter_ms(pycache: str) -> float:
    """Wall time of `python -c pass`: the floor no import can beat."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], cwd=ROOT, env=_environment(pycache), check=True)
    return (time.perf_counter() - started) * 1000


def best_cold_start_ms(runs: int) -> tuple[float, float]:
    """(best import of `app`, median `python -c pass`) over `runs` interleaved pairs.

    Load only ever adds time, so the minimum import is what the import itself costs;
    the floor is the median, as the quiet-machine figure it is compared with.
    """
    imports, floors = [], []
    with tempfile.TemporaryDirectory(prefix="cold-start-pycache-") as pycache:
        import_ms(pycache)  # compiles into the cache; not counted
        for _ in range(runs):  # interleaved, so load on the machine hits both alike
            floors.append(interpreter_ms(pycache))
            imports.append(import_ms(pycache))
    return min(imports), statistics.median(floors)


_ZIP_CHILD = "import sys; sys.path.insert(0, sys.argv[1]); import {module}"


def _zip_import_ms(task: Path, module: str) -> float:
    """Cumulative import time of `module` from an unpacked zip, as Lambda imports it
    (read-only, PYTHONDONTWRITEBYTECODE, the zip's own bytecode)."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin"), "PYTHONDONTWRITEBYTECODE": "1"}
    code = _ZIP_CHILD.format(module=module)
    proc = subprocess.run(
        [sys.executable, "-I", "-S", "-X", "importtime", "-c", code, str(task)],
        cwd=task, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    for line in reversed(proc.stderr.splitlines()):
        parts = [p.strip() for p in line.removeprefix("import time:").split("|")]
        if len(parts) == 3 and parts[2] == module:
            return int(parts[1]) / 1000
    raise RuntimeError(f"no import time for {module}:\n{proc.stderr[-2000:]}")


def zip_best_ms(zip_path: Path, runs: int) -> dict[str, float]:
    """Best of `runs` interleaved imports of `app` and of `chalice` alone from the zip."""
    with tempfile.TemporaryDirectory(prefix="cold-start-zip-") as tmp:
        task = unpack_read_only(zip_path, Path(tmp) / "task")
        try:
            app, chalice = [], []
            for _ in range(runs):
                app.append(_zip_import_ms(task, "app"))
                chalice.append(_zip_import_ms(task, "chalice"))
        finally:
            for path in Path(tmp).rglob("*"):
                path.chmod(0o755 if path.is_dir() else 0o644)
    return {"best_ms": min(app), "chalice_best_ms": min(chalice)}
