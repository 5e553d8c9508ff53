"""The Node/Express/Bull peer of the accept (bench/node_peer/server.js), for `make bench`.

Written for this bench, on our schema and doing our accept's work (docs/benchmarks.md
says what it does and does not do); the issue's own peer is not on this machine. Node and
npm come from Debian's packages when missing (as wrk does), the peer's packages from
`package-lock.json` (`npm ci`, into bench/node_peer/node_modules, ignored by git).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from chalicelib import settings
from infra import apt

DIRECTORY = Path(__file__).with_name("node_peer")


def ensure_node() -> str:
    """The node binary, with the peer's packages installed."""
    if not (shutil.which("node") and shutil.which("npm")):
        apt.install("nodejs", "npm", tag="bench")
    lock = DIRECTORY / "package-lock.json"
    installed = DIRECTORY / "node_modules" / ".package-lock.json"
    if not installed.exists() or installed.stat().st_mtime < lock.stat().st_mtime:
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--omit=dev", "--loglevel=error"],
            cwd=DIRECTORY,
            check=True,
        )
    return shutil.which("node") or "node"


def command(port: int, workers: int, env: dict[str, str]) -> tuple[list[str], dict[str, str]]:
    """The peer's command line and environment: the same database and Redis as ours, and
    the newest keys of our two keyrings, so that it hashes API keys as we store them."""
    ring = settings.api_key_keyring()
    if ring is None:
        raise SystemExit("the peer needs the API-key keyring (API_KEY_HMAC_SECRET_ID or _KEY)")
    peer_env = {
        **env,
        "PORT": str(port),
        "WORKERS": str(workers),
        "DATABASE_URL": env.get("DATABASE_URL") or settings.database_url(),
        "REDIS_URL": env.get("REDIS_URL") or settings.redis_url(),
        "API_KEY_HMAC_VERSION": str(ring.newest),
        "API_KEY_HMAC_KEY_HEX": ring.keys[ring.newest].hex(),
        "IDEMPOTENCY_HMAC_KEY_HEX": settings.idempotency_hmac_key().hex(),
    }
    return [ensure_node(), str(DIRECTORY / "server.js")], peer_env
