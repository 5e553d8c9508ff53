"""The layers of chalicelib/ hold (infra/check_layers.py, also run by `make lint`)."""

from __future__ import annotations

import ast
from pathlib import Path

from infra import check_layers


def test_no_upward_import_and_no_tooling_in_the_runtime() -> None:
    assert check_layers.violations() == []


def test_the_check_finds_an_upward_import(tmp_path: Path) -> None:
    """It can fail: a repository module importing a service, and the runtime importing
    tooling, are both reported."""
    package = tmp_path / "chalicelib"
    (package / "repository").mkdir(parents=True)
    (tmp_path / "app.py").write_text("import chalicelib\n")
    (package / "repository" / "bad.py").write_text(
        "from chalicelib.services import payments\n\ndef f():\n    import infra.migrate\n"
    )
    ast.parse((package / "repository" / "bad.py").read_text())
    found = check_layers.violations(tmp_path)
    assert any("chalicelib.repository imports upward" in line for line in found)
    assert any("the runtime imports tooling (infra.migrate)" in line for line in found)
