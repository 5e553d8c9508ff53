"""docs/configuration.md against `Settings`: every field documented with its real default,
and no environment variable read elsewhere without a word in the doc on why."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from chalicelib.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "configuration.md").read_text()


def _rows(section: str) -> dict[str, list[str]]:
    """{first cell's variables: the row's cells} of one section's table."""
    body = DOC.split(f"## {section}", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in body.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| `") and len(cells) >= 2:
            for name in re.findall(r"`([A-Z0-9_]+)`", cells[0]):
                rows[name] = cells
    return rows


def _shown(default: Any) -> str:
    if default is None or default == "":
        return "\u2013"  # the doc's dash for "no default"
    if isinstance(default, bool):
        return f"`{str(default).lower()}`"
    if isinstance(default, float):
        return f"`{default:g}`"
    if isinstance(default, list | dict):
        return f"`{json.dumps(default)}`"
    return f"`{default}`"


def test_every_setting_is_documented_with_its_default() -> None:
    rows = _rows("Settings")
    for name, field in Settings.model_fields.items():
        variable = name.upper()
        assert variable in rows, f"{variable} is not in docs/configuration.md"
        assert rows[variable][1] == _shown(field.default), (
            f"{variable}: the doc says {rows[variable][1]}, Settings {_shown(field.default)}"
        )
    documented = set(rows) - {n.upper() for n in Settings.model_fields}
    assert not documented, f"documented but not a setting: {sorted(documented)}"


def test_every_variable_read_outside_settings_is_explained() -> None:
    explained = set(_rows("Read outside `Settings`, and why"))
    settings = {n.upper() for n in Settings.model_fields}
    read = set()
    for folder in ("chalicelib", "workers", "infra", "app.py"):
        paths = [ROOT / folder] if folder.endswith(".py") else (ROOT / folder).rglob("*.py")
        for path in paths:
            text = path.read_text()
            # the process environment (os.environ), not a WSGI request's environ
            read |= set(re.findall(r"os\.environ(?:\.get)?\(\s*\"([A-Z][A-Z0-9_]+)\"", text))
            read |= set(re.findall(r"os\.environ\[\"([A-Z][A-Z0-9_]+)\"\]", text))
            read |= set(re.findall(r"\benv\.get\(\s*\"([A-Z][A-Z0-9_]+)\"", text))
    # Variables the stack and the tooling pass to the processes they start, or set for
    # the libraries they run (not read as configuration of ours).
    passed_on = {"PATH", "HOME", "PGDATA", "PYTHONPATH", "AWS_ACCESS_KEY_ID",
                 "AWS_SECRET_ACCESS_KEY", "AWS_REGION", "CI", "USER"}  # fmt: skip
    unexplained = sorted(read - settings - explained - passed_on)
    assert not unexplained, f"read outside Settings with no word in the doc: {unexplained}"
