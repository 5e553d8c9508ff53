"""`make client`: clients/python, the merchants' typed client, from the OpenAPI document.

The document is the one `GET /api/v1/openapi.json` serves, built here in-process by the
same code (chalicelib/api/openapi.py), so no server is needed. openapi-python-client, at
the version requirements-dev.in pins, generates the package with the settings of
clients/openapi-python-client.yaml; the venv's ruff then fixes and formats it with the
generated pyproject.toml's settings. The output depends on nothing else (no timestamps,
no paths), so tests/unit/test_client_fresh.py regenerates it into a temporary folder and
fails when the committed client differs: run `make client` and commit the result.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "clients" / "openapi-python-client.yaml"
OUTPUT = ROOT / "clients" / "python"
#: What ruff and Python leave behind; not part of the client.
NOT_GENERATED = (".ruff_cache", "__pycache__")


class ClientGenerationError(RuntimeError):
    """openapi-python-client warned or failed: the document needs fixing, not the client."""


def document() -> dict[str, Any]:
    """The OpenAPI document the app serves (every route registered by importing it)."""
    import app  # noqa: F401 - registers every route
    from chalicelib.api.openapi import build_document

    return build_document()


def generate(output: Path) -> None:
    """Generate the client into `output` (created; must not exist)."""
    from openapi_python_client import generate as generate_client
    from openapi_python_client.config import Config, ConfigFile, MetaType

    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "openapi.json"
        source.write_text(json.dumps(document(), indent=2) + "\n")
        config = Config.from_sources(
            ConfigFile.load_from_path(CONFIG),
            MetaType.UV,
            source,
            "utf-8",
            overwrite=False,
            output_path=output,
        )
        errors = generate_client(config=config)
    if errors:
        raise ClientGenerationError(
            "\n".join(f"{error.header}: {error.detail}" for error in errors)
        )
    for ruff in (["check", "--fix-only", "--quiet", "."], ["format", "--quiet", "."]):
        subprocess.run([sys.executable, "-m", "ruff", *ruff], cwd=output, check=True)
    shutil.rmtree(output / ".ruff_cache", ignore_errors=True)


def files(folder: Path) -> dict[str, bytes]:
    """Every generated file under `folder`: its path relative to it, and its bytes."""
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and not set(path.relative_to(folder).parts) & set(NOT_GENERATED)
    }


def differences(fresh: Path, committed: Path) -> list[str]:
    """The files that differ between two generated trees, or are in only one of them."""
    new, old = files(fresh), files(committed)
    return sorted(name for name in new.keys() | old.keys() if new.get(name) != old.get(name))


def main() -> None:
    """Regenerate clients/python (built aside, then swapped in: no stale file survives)."""
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp) / "python"
        generate(fresh)
        shutil.rmtree(OUTPUT, ignore_errors=True)
        shutil.copytree(fresh, OUTPUT)
    print(f"{OUTPUT.relative_to(ROOT)}: {len(files(OUTPUT))} files")


if __name__ == "__main__":
    main()
