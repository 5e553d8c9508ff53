"""What the browser tests need, installed when missing (as `infra.stack` does for Redis).

- Debian's `chromium` and `chromium-driver` (apt-get, when root), used by selenium
  from `/usr/bin/chromium` and `/usr/bin/chromedriver`;
- axe-core, the accessibility engine the tests inject into the page, fetched from the
  npm registry with `npm pack` at the pinned version into `.vendor/` (git-ignored).
  The dashboard itself never loads it.

  python -m infra.browser     # install what is missing; prints the paths as JSON
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

from infra import apt

ROOT = Path(__file__).resolve().parent.parent
VENDOR = ROOT / ".vendor"
AXE_CORE_VERSION = "4.14.1"
AXE_JS = VENDOR / f"axe-core-{AXE_CORE_VERSION}" / "axe.min.js"
CHROMIUM = Path(os.environ.get("CHROMIUM_BIN", "/usr/bin/chromium"))
CHROMEDRIVER = Path(os.environ.get("CHROMEDRIVER_BIN", "/usr/bin/chromedriver"))


def log(message: str) -> None:
    print(f"[browser] {message}", file=sys.stderr, flush=True)


def ensure_chromium() -> None:
    missing = [
        pkg
        for pkg, path in (("chromium", CHROMIUM), ("chromium-driver", CHROMEDRIVER))
        if not path.exists()
    ]
    if missing:
        apt.install(*missing, tag="browser")


def ensure_axe_core() -> Path:
    """axe.min.js of the pinned axe-core, from the npm registry (once)."""
    if AXE_JS.exists():
        return AXE_JS
    if not shutil.which("npm"):
        apt.install("npm", tag="browser")
    VENDOR.mkdir(exist_ok=True)
    log(f"fetching axe-core@{AXE_CORE_VERSION} from the npm registry")
    packed = subprocess.run(
        [
            "npm",
            "pack",
            f"axe-core@{AXE_CORE_VERSION}",
            "--pack-destination",
            str(VENDOR),
            "--json",
        ],
        check=True,
        capture_output=True,
        text=True,
        cwd=VENDOR,
    )
    tarball = VENDOR / json.loads(packed.stdout)[0]["filename"]
    with tarfile.open(tarball) as archive:
        member = archive.extractfile("package/axe.min.js")
        assert member is not None
        AXE_JS.parent.mkdir(exist_ok=True)
        AXE_JS.write_bytes(member.read())
    tarball.unlink()
    return AXE_JS


def main() -> int:
    ensure_chromium()
    axe = ensure_axe_core()
    print(
        json.dumps({"chromium": str(CHROMIUM), "chromedriver": str(CHROMEDRIVER), "axe": str(axe)})
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
