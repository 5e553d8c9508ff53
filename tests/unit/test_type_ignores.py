"""Every `# type: ignore` in the code mypy checks names its error code and says why
(docs/architecture.md, Dependencies). mypy itself refuses one without a code
(`ignore-without-code`) or one that hides nothing (`warn_unused_ignores`); the reason
is this test's."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
IGNORE = re.compile(r"#\s*type:\s*ignore(?P<codes>\[[\w\-, ]+\])?(?P<rest>.*)$")
REASON = re.compile(r"^\s+#\s*\w")


def unexplained(text: str) -> list[int]:
    """The lines of `text` whose `# type: ignore` has no error code or no reason after it."""
    bad = []
    for number, line in enumerate(text.splitlines(), 1):
        match = IGNORE.search(line)
        if match and (not match["codes"] or not REASON.match(match["rest"])):
            bad.append(number)
    return bad


def _checked_files() -> list[Path]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]
    files = []
    for name in config["files"]:
        path = ROOT / name
        files += sorted(path.rglob("*.py")) if path.is_dir() else [path]
    return files


def test_an_ignore_needs_a_code_and_a_reason() -> None:
    assert unexplained("x = f()  # type: ignore\n") == [1]
    assert unexplained("x = f()  # type: ignore[attr-defined]\n") == [1]
    assert unexplained("ok = 1\nx = f()  # type: ignore  # untyped library\n") == [2]
    assert unexplained("x = f()  # type: ignore[attr-defined]  # set by the plugin\n") == []
    assert unexplained("x = f()  # type: ignore[arg-type, union-attr]  # why\n") == []


def test_every_ignore_in_checked_code_says_why() -> None:
    files = _checked_files()
    assert any(p.name == "app.py" for p in files) and len(files) > 50
    bad = [f"{p.relative_to(ROOT)}:{n}" for p in files for n in unexplained(p.read_text())]
    assert not bad, f"a type: ignore without its error code and reason: {bad}"
