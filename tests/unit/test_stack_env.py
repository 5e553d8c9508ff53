"""The stack's settings files: written by a stack start, read by the operator commands,
deleted by `infra.stack down` so that no command reads settings of stopped services."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra import stack, stack_env

SETTINGS = {
    "DATABASE_URL": "postgresql://gateway@127.0.0.1:1/gateway",
    "REDIS_URL": "redis://127.0.0.1:2/0",
    "AWS_ENDPOINT_URL": "http://127.0.0.1:3",
}


@pytest.fixture
def stack_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(stack_env, "STACK_DIR", tmp_path)
    return tmp_path


def test_commands_read_the_settings_of_a_running_stack(stack_dir: Path) -> None:
    stack_env.write("gateway", SETTINGS)
    environ: dict[str, str] = {"REDIS_URL": "redis://set-by-the-shell/0"}
    assert stack_env.load(environ) == stack_dir / "gateway.env"
    assert environ["DATABASE_URL"] == SETTINGS["DATABASE_URL"]
    assert environ["REDIS_URL"] == "redis://set-by-the-shell/0"  # the environment wins


def test_stack_down_deletes_the_settings_files_it_wrote(
    stack_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stopped: list[object] = []
    monkeypatch.setattr(stack, "down", lambda services=None: stopped.append(services))
    for database in ("gateway", "gateway_test", "gateway_bench"):
        stack_env.write(database, SETTINGS)
    mine = stack_dir / "mine.env"  # not written by a stack start: left alone
    mine.write_text("DATABASE_URL=postgresql://elsewhere/db\n")

    assert stack.main(["down"]) == 0

    assert stopped == [None]  # every local service
    assert sorted(p.name for p in stack_dir.glob("*.env")) == ["mine.env"]
    environ: dict[str, str] = {}
    assert stack_env.load(environ) is None  # nothing stale to read
    assert environ == {}
