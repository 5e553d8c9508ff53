"""infra.stack's choice of Docker mode, with a fake `docker` on PATH."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from infra import stack, stack_postgres, stack_services


def fake_docker(tmp_path: Path, info_rc: int, compose_rc: int) -> None:
    script = tmp_path / "docker"
    script.write_text(
        "#!/bin/sh\n"
        f'if [ "$1" = info ]; then exit {info_rc}; fi\n'
        f'if [ "$1 $2" = "compose version" ]; then exit {compose_rc}; fi\n'
        "exit 99\n"
    )
    script.chmod(0o755)


@pytest.mark.parametrize(
    ("info_rc", "compose_rc", "expected"),
    [(0, 0, True), (1, 0, False), (0, 1, False)],
)
def test_docker_mode_needs_an_engine_and_compose_v2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, info_rc: int, compose_rc: int, expected: bool
) -> None:
    fake_docker(tmp_path, info_rc, compose_rc)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.delenv("GATEWAY_NO_DOCKER", raising=False)
    assert stack._docker_engine() is expected


def test_services_already_answering_are_used_without_docker(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With all three ports answering, `up` neither asks Docker nor starts anything."""
    for name in ("DATABASE_URL", "REDIS_URL", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    # Every module that asks: each service's starter checks its own port (a starter that
    # saw a closed port started a real service here when no stack was up, and left it).
    for module in (stack, stack_postgres, stack_services):
        monkeypatch.setattr(module, "port_open", lambda host, port, timeout=0.5: True)
    # (whose they are is test_one_stack_per_checkout's subject)
    monkeypatch.setattr(stack, "check_ports", lambda names: None)
    monkeypatch.setattr(stack, "_docker_engine", lambda: pytest.fail("Docker was asked"))
    created: list[str] = []
    monkeypatch.setattr(stack, "create_databases", lambda base, *a: created.append(base))
    result = stack.up()
    assert result.started == []
    assert created == [f"postgresql://gateway@127.0.0.1:{stack.PG_PORT}"]
