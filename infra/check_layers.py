"""The layers of `chalicelib/`, checked (`make lint`, and tests/unit/test_layers.py).

Every import is read from the source (lazy ones inside functions too) and must point
down or sideways, never up:

    app.py
    chalicelib.api         routes, the request pipeline          (top)
    chalicelib.handlers    the scheduled handlers' bodies
    chalicelib.services    the rules
    chalicelib.queue       the queue (services enqueue through it)
    chalicelib.connectors  the acquirers' adapters
    chalicelib.repository  SQL
    chalicelib.adapters    outside systems
    chalicelib.models      request and answer models            (bottom, with the
                           shared modules: settings, db, errors, ids, clock, ...)

and the runtime (`app.py`, `chalicelib`) imports none of the tooling (`infra`, `workers`,
`bench`, `tests`). Exit status 1 with one line per upward import.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ORDER = ["api", "handlers", "services", "queue", "connectors", "repository", "adapters", "models"]
TOOLING = ("infra", "workers", "bench", "tests")


def _layer(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "chalicelib" or len(parts) < 2:
        return None
    return parts[1] if parts[1] in ORDER else None


def _imports(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.append((node.lineno, node.module))
            found += [(node.lineno, f"{node.module}.{a.name}") for a in node.names]
    return found


def violations(root: Path = ROOT) -> list[str]:
    bad = []
    sources = [root / "app.py", *sorted((root / "chalicelib").rglob("*.py"))]
    for path in sources:
        relative = path.relative_to(root)
        own = _layer(".".join(relative.with_suffix("").parts))
        for line, module in _imports(path):
            where = f"{relative}:{line}"
            if module.split(".")[0] in TOOLING:
                bad.append(f"{where}: the runtime imports tooling ({module})")
                continue
            target = _layer(module)
            if own is None or target is None or target == own:
                continue
            if ORDER.index(target) < ORDER.index(own):
                bad.append(f"{where}: chalicelib.{own} imports upward ({module})")
    return sorted(set(bad))


def main() -> int:
    bad = violations()
    for line in bad:
        print(line)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
