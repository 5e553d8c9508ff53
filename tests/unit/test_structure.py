"""The layout rules a newcomer relies on, checked so they stay true."""

from __future__ import annotations

import re
from pathlib import Path

import app as app_module
from chalicelib.api.endpoint import ROUTES

CHALICELIB = Path(__file__).resolve().parents[2] / "chalicelib"
OPENS_A_UNIT = re.compile(r"\bdb\.(connection|transaction|unit_of_work)\(")


def test_services_receive_their_unit_of_work() -> None:
    """Callers (routes, handlers, the CLI, tests) open units of work; services never do."""
    offenders = [
        f"{path.name}:{n}"
        for path in sorted((CHALICELIB / "services").glob("*.py"))
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if OPENS_A_UNIT.search(line)
    ]
    assert offenders == []


def test_every_route_declares_its_database_access() -> None:
    assert ROUTES, "no route registered"
    for route in ROUTES:
        assert route.access in ("read", "write", "none"), route.path
        if route.method == "POST":
            assert route.access == "write", f"POST {route.path} must declare access='write'"
    registered = {(path, m) for path, entry in app_module.app.routes.items() for m in entry}
    # The dashboard's static files are Chalice routes of their own (api/dashboard.py):
    # no database, no JSON, no key; so are the checkout page and its files
    # (api/checkout.py). Every other route goes through `endpoint`.
    static = {(p, m) for p, m in registered if p == "/dashboard" or p.startswith("/dashboard/")}
    static |= {("/pay/{link_id}", "GET"), ("/checkout/{name}", "GET")}
    assert static and registered - static == {(r.path, r.method) for r in ROUTES}


def test_modules_stay_small() -> None:
    sizes = {
        str(path.relative_to(CHALICELIB)): len(path.read_text().splitlines())
        for path in CHALICELIB.rglob("*.py")
    }
    assert {name: n for name, n in sizes.items() if n > 320} == {}
