"""The acquirer's card element: card fields on the acquirer's own origin (issue 26).

    GET /v1/elements/card?origin=<parent origin>   the fields' page (HTML)
    GET /v1/elements/card.js, card.css             its script and style
    GET /v1/tokens/{token}                         what a token stands for (no number)

A checkout page frames the element and, to pay, posts it `{type: "tokenize"}`. The
element posts the number, expiry and CVC to this acquirer's `POST /v1/tokens` and
answers the parent with the token, brand, last four digits and expiry only, by
`postMessage` to the origin it was given, and to no other: the page's CSP allows
framing by that origin alone (`frame-ancestors`), and the script ignores messages
from any other.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from aiohttp import web

from infra.acquirer.models import error

STATIC = Path(__file__).resolve().parent / "element"
ASSETS = {"card.js": "text/javascript", "card.css": "text/css"}
#: scheme, host and optional port; nothing else (no path, no wildcard, no quotes)
ORIGIN = re.compile(r"^https?://(?:[A-Za-z0-9.\-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\])(?::[0-9]{1,5})?$")


def _csp(parent: str) -> str:
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "connect-src 'self'",
            "base-uri 'none'",
            "form-action 'none'",
            f"frame-ancestors {parent}",
        ]
    )


async def card_page(request: web.Request) -> web.Response:
    parent = request.query.get("origin", "")
    if not ORIGIN.fullmatch(parent):
        return error(400, "parameter_invalid", "origin must be the framing page's origin", "origin")
    page = (STATIC / "card.html").read_text(encoding="utf-8")
    body = page.replace("{{origin}}", html.escape(parent, quote=True))
    headers = {
        "Content-Security-Policy": _csp(parent),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
    }
    return web.Response(text=body, content_type="text/html", headers=headers)


async def card_asset(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    if name not in ASSETS:
        return error(404, "not_found", "No such element file")
    return web.Response(
        text=(STATIC / name).read_text(encoding="utf-8"),
        content_type=ASSETS[name],
        headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache"},
    )


def add_routes(app: web.Application, describe_token: web.RequestHandler) -> None:
    app.router.add_get("/v1/elements/card", card_page)
    app.router.add_get("/v1/elements/{name}", card_asset)
    app.router.add_get("/v1/tokens/{token}", describe_token)
