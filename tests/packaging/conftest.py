"""`make package` once per session, into a temporary directory; its zip unpacked as
Lambda's /var/task, and execution environments of its functions (tests/lambda_function.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.lambda_function import (
    ExecutionEnvironment,
    LocalStack,
    functions,
    runtime_dir,
    unpack_read_only,
)

ROOT = Path(__file__).resolve().parents[2]
# Variables that must not be needed: no region (us-east-1 is the default) and no credentials.
UNNEEDED = (
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
)


@dataclass
class Package:
    out: Path
    figures: dict[str, Any]
    stderr: str
    seconds: float

    @property
    def sam(self) -> dict[str, Any]:
        return json.loads((self.out / "cloudformation" / "sam.json").read_text())

    @property
    def terraform(self) -> dict[str, Any]:
        return json.loads((self.out / "terraform" / "chalice.tf.json").read_text())

    @property
    def zip_path(self) -> Path:
        return self.out / "cloudformation" / "deployment.zip"


@pytest.fixture(scope="session")
def package(tmp_path_factory: pytest.TempPathFactory) -> Package:
    """`python -m infra.package` (what `make package` runs) with no region and no credentials."""
    out = tmp_path_factory.mktemp("package") / "build"
    env = {k: v for k, v in os.environ.items() if k not in UNNEEDED}
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "infra.package", "--out-dir", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    seconds = time.perf_counter() - started
    assert proc.returncode == 0, f"make package failed:\n{proc.stdout}\n{proc.stderr}"
    figures = json.loads(proc.stdout.strip().splitlines()[-1])
    return Package(out, figures, proc.stderr, seconds)


@pytest.fixture(scope="session")
def task_root(package: Package, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The zip unpacked and read-only, as Lambda's /var/task."""
    task = unpack_read_only(package.zip_path, tmp_path_factory.mktemp("lambda") / "task")
    yield task
    for path in [task, *task.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)  # so that pytest can remove it


@pytest.fixture(scope="session")
def lambda_runtime(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return runtime_dir(tmp_path_factory.mktemp("lambda") / "runtime")


@pytest.fixture(scope="session")
def local_stack() -> LocalStack:
    return LocalStack()


@pytest.fixture
def start_function(
    package: Package, task_root: Path, lambda_runtime: Path, local_stack: LocalStack, tmp_path: Path
) -> Iterator[Callable[..., ExecutionEnvironment]]:
    """Start an execution environment of the packaged function named by its handler's
    attribute (`app`, `process_payments`); stopped after the test."""
    started: list[ExecutionEnvironment] = []
    specs = functions(package.sam)

    def start(name: str, **options: Any) -> ExecutionEnvironment:
        env = ExecutionEnvironment(
            specs[name],
            task_root,
            lambda_runtime,
            local_stack,
            tmp_path / f"{name}-{len(started)}.log",
            **options,
        )
        started.append(env)
        return env

    yield start
    for env in started:
        env.stop()
