"""The dashboard: a static page and its assets, served by the app itself.

The files live in `chalicelib/dashboard/` (so Chalice packages them with the app)
and are plain HTML, CSS and JavaScript modules: no build step, no CDN. The page
reads and writes data only through the public API, with the key the person types.

Every answer carries a Content-Security-Policy that allows scripts and styles from
this origin only (no inline script, no eval), forbids framing, and sends no
referrer; assets are revalidated with an ETag so a deploy is seen at once.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import NamedTuple

from chalice import Blueprint, Response

bp = Blueprint(__name__)

STATIC_DIR = Path(__file__).resolve().parent.parent / "dashboard"
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
}
CSP = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}


class Asset(NamedTuple):
    """One servable file. (A NamedTuple: `dataclasses` would import `inspect` with the
    app, a tenth of its cold start.)"""

    body: str
    content_type: str
    etag: str


_assets: dict[str, Asset] | None = None


def assets() -> dict[str, Asset]:
    """Every servable file by name, read once per process (only these names are served)."""
    global _assets
    if _assets is None:
        found = {}
        for path in sorted(STATIC_DIR.iterdir()):
            content_type = CONTENT_TYPES.get(path.suffix)
            if content_type is None or not path.is_file():
                continue
            body = path.read_text(encoding="utf-8")
            etag = '"' + hashlib.sha256(body.encode()).hexdigest()[:32] + '"'
            found[path.name] = Asset(body, content_type, etag)
        _assets = found
    return _assets


def _serve(name: str) -> Response:
    asset = assets().get(name)
    if asset is None:
        return Response(
            body='{"error":{"type":"invalid_request_error","code":"resource_missing",'
            '"message":"No such dashboard file."}}',
            status_code=404,
            headers={"Content-Type": "application/json", **SECURITY_HEADERS},
        )
    headers: dict[str, str | list[str]] = {
        **SECURITY_HEADERS,
        "Content-Type": asset.content_type,
        "Cache-Control": "no-cache",
        "ETag": asset.etag,
    }
    if_none_match = bp.current_request.headers.get("if-none-match")
    if if_none_match and asset.etag in [t.strip() for t in if_none_match.split(",")]:
        return Response(body="", status_code=304, headers=headers)
    return Response(body=asset.body, status_code=200, headers=headers)


@bp.route("/dashboard", methods=["GET"])
def dashboard_page() -> Response:
    return _serve("index.html")


@bp.route("/dashboard/{name}", methods=["GET"])
def dashboard_asset(name: str) -> Response:
    return _serve(name)
