"""`infra.apt.install`: without root or apt-get it installs nothing and names what to install."""

from __future__ import annotations

import subprocess

import pytest

from infra import apt


def test_without_root_nothing_runs_and_the_packages_are_named(monkeypatch) -> None:
    monkeypatch.setattr(apt.os, "geteuid", lambda: 1000)
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: pytest.fail("apt-get ran"))
    with pytest.raises(
        SystemExit, match=r"\[bench\] missing nodejs npm: .*apt-get install nodejs npm"
    ):
        apt.install("nodejs", "npm", tag="bench")


def test_as_root_it_updates_then_installs_them(monkeypatch) -> None:
    calls: list[list[str]] = []
    monkeypatch.setattr(apt.os, "geteuid", lambda: 0)
    monkeypatch.setattr(apt.shutil, "which", lambda name: "/usr/bin/apt-get")
    monkeypatch.setattr(apt.subprocess, "run", lambda cmd, **k: calls.append(cmd))
    apt.install("wrk", tag="bench")
    assert calls == [["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "wrk"]]
