"""`make package` once per session, into a temporary directory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

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
