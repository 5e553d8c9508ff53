"""Every file, folder and `make` target that README.md or docs/ names exists (issue 29)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# Made at run time (git-ignored), or the names of things outside this repository.
GENERATED = (
    "build/",
    ".stack/",
    ".venv/",
    ".vendor/",
    ".chalice/deployments/",
    "/usr/",
    "/data",
    "/tmp/",
    "/var/",
    "0.0.0.0/",
)
PATH = re.compile(r"`((?:[\w.-]+/)+[\w.-]*)`|\]\(((?!https?:|#)[^)#\s]+)\)")
MAKE = re.compile(r"`make ([a-z][a-z-]+)|^make ([a-z][a-z-]+)", re.M)


def _targets() -> set[str]:
    makefile = (ROOT / "Makefile").read_text()
    return set(re.findall(r"^([a-z][a-z-]+):", makefile, re.M))


def test_named_files_and_folders_exist() -> None:
    missing = []
    for doc in DOCS:
        for match in PATH.finditer(doc.read_text()):
            name = match.group(1) or match.group(2)
            if name.startswith(GENERATED) or "{" in name or "*" in name or "<" in name:
                continue
            base = doc.parent if match.group(2) else ROOT
            if not (base / name).exists() and not (ROOT / name).exists():
                missing.append(f"{doc.relative_to(ROOT)}: {name}")
    assert not missing, missing


def test_named_make_targets_exist() -> None:
    targets = _targets()
    missing = [
        f"{doc.relative_to(ROOT)}: make {name}"
        for doc in DOCS
        for pair in MAKE.findall(doc.read_text())
        for name in pair
        if name and name not in targets
    ]
    assert not missing, missing
