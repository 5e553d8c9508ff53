"""Debian packages installed when a tool is missing, so that `make test` and `make bench`
set up a fresh machine themselves (as root, with apt-get); elsewhere the command says
what to install and stops."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys


def install(*packages: str, tag: str) -> None:
    """`apt-get install` the packages, or exit naming them when not root or not Debian."""
    names = " ".join(packages)
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise SystemExit(
            f"[{tag}] missing {names}: install them (Debian: apt-get install {names}) "
            "or run as root."
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    print(f"[{tag}] installing Debian's {names}", file=sys.stderr, flush=True)
    subprocess.run(["apt-get", "update", "-qq"], env=env, check=True, stdout=subprocess.DEVNULL)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", *packages],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
