"""The dashboard's files as the app serves them: types, security headers, caching, size."""

from __future__ import annotations

import re

import pytest

from chalicelib.api.dashboard import STATIC_DIR

FIRST_LOAD_BUDGET = 300 * 1024
# Ways a string becomes markup or code; the dashboard uses none (text nodes only).
HTML_SINKS = re.compile(
    r"\.(inner|outer)HTML\s*=|insertAdjacentHTML|document\.write|\beval\(|new Function\("
)


def test_page_and_assets_have_types_csp_and_no_framing(live_server) -> None:
    with live_server.client() as client:
        page = client.get("/dashboard")
        assert page.status_code == 200
        assert page.headers["content-type"] == "text/html; charset=utf-8"
        csp = page.headers["content-security-policy"]
        assert (
            "script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
        )
        assert "frame-ancestors 'none'" in csp
        assert page.headers["x-frame-options"] == "DENY"
        assert page.headers["x-content-type-options"] == "nosniff"
        assert page.headers["referrer-policy"] == "no-referrer"
        assert page.headers["cache-control"] == "no-cache"
        # Everything the page loads comes from this origin: no CDN, no inline script.
        assert not re.search(r"(src|href)=\"(https?:)?//", page.text)
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page.text)
        total = len(page.content)
        for name in sorted(p.name for p in STATIC_DIR.iterdir() if p.suffix in (".js", ".css")):
            asset = client.get(f"/dashboard/{name}")
            assert asset.status_code == 200, name
            expected = "text/javascript" if name.endswith(".js") else "text/css"
            assert asset.headers["content-type"] == f"{expected}; charset=utf-8"
            assert asset.headers["content-security-policy"] == csp
            assert not HTML_SINKS.search(asset.text), name
            total += len(asset.content)
            again = client.get(
                f"/dashboard/{name}", headers={"If-None-Match": asset.headers["etag"]}
            )
            assert again.status_code == 304 and again.content == b""
    assert total < FIRST_LOAD_BUDGET, total


@pytest.mark.parametrize("name", ["nope.js", "..%2Fapp.py", "index.htm", "%2e%2e"])
def test_unknown_dashboard_files_are_404_in_the_contract_format(live_server, name: str) -> None:
    with live_server.client() as client:
        answer = client.get(f"/dashboard/{name}")
    # granian decodes %2F in the path before the app sees it, so `..%2Fapp.py` is two
    # segments and matches no route (403); API Gateway would match it as one (404).
    assert answer.status_code == (403 if "%2F" in name else 404)
    assert answer.json()["error"]["code"] == "resource_missing"
