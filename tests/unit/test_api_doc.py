"""docs/api.md is the project's contract: it and the code name the same routes, and the
documents that point to the contract point to it, not to a file outside the repository."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import app as app_module
from chalicelib.api.endpoint import ROUTES
from chalicelib.api.openapi import DOCS_URL, PATH_PARAMETER_PREFIX, build_document
from infra.migrate import migration_files

ROOT = Path(__file__).resolve().parents[2]
API_DOC = ROOT / "docs" / "api.md"
ROW = re.compile(r"^\| `(GET|POST|PUT|PATCH|DELETE)` \| `(/[^`]*)` \| (\d{3}) \|", re.MULTILINE)


def documented_routes() -> dict[tuple[str, str], int]:
    return {
        (path, method): int(status) for method, path, status in ROW.findall(API_DOC.read_text())
    }


def test_every_route_of_the_app_is_in_docs_api_md_and_nothing_else() -> None:
    served = {(path, m) for path, methods in app_module.app.routes.items() for m in methods}
    documented = documented_routes()
    assert served - documented.keys() == set(), "served but not in docs/api.md's routes table"
    assert documented.keys() - served == set(), "in docs/api.md's routes table but not served"


def test_docs_api_md_gives_each_route_its_status() -> None:
    documented = documented_routes()
    for route in ROUTES:
        assert documented[(route.path, route.method)] == route.status, route.path


def test_every_path_parameter_has_an_id_pattern() -> None:
    """A route with a new path parameter name must say its id type (chalicelib/api/openapi.py)."""
    for route in ROUTES:
        for name in re.findall(r"{(\w+)}", route.path):
            assert name in PATH_PARAMETER_PREFIX, (route.path, name)


def test_the_openapi_description_links_to_docs_api_md() -> None:
    assert DOCS_URL == "docs/api.md" and (ROOT / DOCS_URL).exists()
    assert DOCS_URL in build_document()["info"]["description"]


def test_nothing_points_to_the_contract_outside_the_repository() -> None:
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    offenders = []
    for name in tracked:
        if not name.endswith((".py", ".md", ".json", ".toml", ".yml", "Makefile")):
            continue
        text = (ROOT / name).read_text(errors="replace")
        if re.search(r"shared/API\.md|(?<![\w/])API\.md", text):
            offenders.append(name)
    assert offenders == []


def test_the_migrations_readme_names_every_migration() -> None:
    readme = (ROOT / "chalicelib" / "migrations" / "README.md").read_text()
    for path in migration_files():
        assert f"`{path.stem}`" in readme, path.stem
    assert "no 0003" in readme
