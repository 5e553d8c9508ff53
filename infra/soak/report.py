"""The soak's verdict: a table on stdout and the whole record as JSON."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from infra.soak.checks import INVARIANTS


def table(checked: Counter[str], violations: list[dict[str, Any]], counts: dict[str, Any]) -> str:
    found = Counter(v["invariant"] for v in violations)
    width = max(len(text) for text in INVARIANTS.values())
    lines = [f"{'invariant':<{width}}  {'checked':>8}  {'violations':>10}"]
    for name, text in INVARIANTS.items():
        mark = "  FAIL" if found[name] else ""
        lines.append(f"{text:<{width}}  {checked[name]:>8}  {found[name]:>10}{mark}")
    lines.append("")
    lines.append("  ".join(f"{k}: {v}" for k, v in counts.items() if not isinstance(v, dict)))
    examples = {}
    for violation in violations:
        examples.setdefault(violation["invariant"], violation)
    for violation in examples.values():
        lines.append(f"e.g. {violation['invariant']}: {violation['subject']} {violation['detail']}")
    return "\n".join(lines)


def write(path: Path, document: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=1, default=str))
