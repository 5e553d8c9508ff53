"""docker-compose.yml, checked without a Docker engine.

Debian's docker-compose (1.29, the Python v1 tool) parses, interpolates and
validates a compose file against its schema without talking to an engine
(`config`). It accepts everything the file uses: `depends_on` conditions
(`service_completed_successfully` included), healthchecks with `start_period`,
extension fields and YAML anchors. When it is missing the session fixture
installs Debian's package (root with apt-get, as on CI), else the tests skip.

The scheduler's heartbeat, which its compose healthcheck reads, is tested at
the end against the real scheduler.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.stack import Stack
from tests.support import wait_until

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
SERVICES = {"postgres", "redis", "localstack", "acquirer", "migrate", "api", "scheduler"}
ONE_SHOT = {"migrate"}
GATEWAY_SERVICES = ("migrate", "api", "scheduler")


def _apt_install_compose() -> subprocess.CompletedProcess:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    # Without recommends: Debian's docker-compose recommends docker.io (the engine,
    # containerd, runc, iptables...), which `config` does not need.
    install = ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "docker-compose"]
    result = subprocess.run(install, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:  # e.g. package lists not fetched yet on a fresh machine
        subprocess.run(
            ["apt-get", "update", "-qq"], env=env, capture_output=True, text=True, check=False
        )
        result = subprocess.run(install, env=env, capture_output=True, text=True, check=False)
    return result


@pytest.fixture(scope="session")
def docker_compose() -> str:
    """The docker-compose (v1) executable, installed from Debian when missing and root."""
    found = shutil.which("docker-compose")
    if found:
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        pytest.skip(
            "docker-compose is not installed and this is not root with apt-get to install "
            "it (Debian: apt-get install docker-compose); docker-compose.yml not validated"
        )
    started = time.monotonic()
    result = _apt_install_compose()
    found = shutil.which("docker-compose")
    if result.returncode != 0 or not found:
        pytest.fail(
            "apt-get install docker-compose failed:\n" + result.stdout[-2000:] + result.stderr
        )
    print(f"installed docker-compose with apt-get in {time.monotonic() - started:.1f}s")
    return found


def compose(docker_compose: str, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "PORT"}  # the file's default port
    return subprocess.run(
        [docker_compose, "--project-directory", str(ROOT), "-f", str(COMPOSE_FILE), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


@pytest.fixture(scope="session")
def config(docker_compose: str) -> dict[str, Any]:
    """The file as compose resolves it: anchors merged, ${PORT:-8000} interpolated."""
    result = compose(docker_compose, "config")
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)


def services(config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return config["services"]


def test_compose_validates_the_file(docker_compose: str) -> None:
    result = compose(docker_compose, "config", "-q")
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "", result.stderr  # no warnings either


def test_compose_rejects_an_invalid_file(docker_compose: str, tmp_path: Path) -> None:
    """The validation is real: a wrong depends_on condition is refused."""
    bad = tmp_path / "docker-compose.yml"
    bad.write_text(
        COMPOSE_FILE.read_text().replace("service_completed_successfully", "service_finished")
    )
    result = subprocess.run(
        [docker_compose, "--project-directory", str(ROOT), "-f", str(bad), "config", "-q"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode != 0
    assert "service_finished" in result.stderr


def test_the_services(docker_compose: str) -> None:
    result = compose(docker_compose, "config", "--services")
    assert result.returncode == 0, result.stderr
    assert set(result.stdout.split()) == SERVICES


def _pinned(image: str) -> bool:
    name, _, tag = image.rpartition(":")
    return bool(name) and "/" not in tag and tag not in ("", "latest")


def test_images_are_pinned(config: dict[str, Any]) -> None:
    for name, service in services(config).items():
        assert _pinned(service["image"]), f"{name}: {service['image']} has no fixed tag"
    localstack_tag = services(config)["localstack"]["image"].rpartition(":")[2]
    assert re.fullmatch(r"\d+\.\d+\.\d+", localstack_tag), localstack_tag
    assert services(config)["postgres"]["image"] == "postgres:15"  # the version the code targets


def test_one_image_built_from_the_repo_for_the_gateway_processes(config: dict[str, Any]) -> None:
    gateway = [services(config)[name] for name in GATEWAY_SERVICES]
    assert len({s["image"] for s in gateway}) == 1
    builds = [s["build"] for s in gateway]
    assert all(b == builds[0] for b in builds)
    dockerfile = Path(builds[0]["context"]) / builds[0]["dockerfile"]
    base = [
        line.split()[1] for line in dockerfile.read_text().splitlines() if line.startswith("FROM")
    ]
    assert base and all(_pinned(image) for image in base), base
    assert all(image.startswith("python:3.12") for image in base), base  # as the venv
    ignored = (ROOT / ".dockerignore").read_text().split()
    for entry in (".git", ".venv", ".stack", "build"):
        assert entry in ignored


def test_gateway_processes_share_the_environment_of_the_non_docker_path(
    config: dict[str, Any],
) -> None:
    env = {name: services(config)[name]["environment"] for name in GATEWAY_SERVICES}
    assert env["api"] == env["scheduler"] == env["migrate"]
    api_env = env["api"]
    # The variable names infra.stack gives `make run` / `make test`, plus STAGE (workers/run.py).
    expected = set(Stack("postgresql://h:1", "redis://h:1", "http://h:1").env("gateway", 0))
    assert expected | {"STAGE"} <= set(api_env)
    assert {"DATABASE_URL", "REDIS_URL", "AWS_ENDPOINT_URL", "STAGE"} <= set(api_env)
    assert api_env["DATABASE_URL"] == "postgresql://gateway@postgres:5432/gateway"
    assert api_env["REDIS_URL"] == "redis://redis:6379/0"
    assert api_env["AWS_ENDPOINT_URL"] == "http://localstack:4566"
    assert api_env["STAGE"] == "local"
    # Written once, in an anchor.
    text = COMPOSE_FILE.read_text()
    assert "x-gateway-env: &gateway-env" in text
    assert text.count("environment: *gateway-env") == len(GATEWAY_SERVICES)


def test_every_long_running_service_restarts_when_it_dies(config: dict[str, Any]) -> None:
    """Issue 22, item 7: a killed Postgres, Redis, emulator, acquirer or gateway comes back."""
    for name, service in services(config).items():
        if name not in ONE_SHOT:
            assert service.get("restart") in ("unless-stopped", "always"), name


def test_every_long_running_service_has_a_healthcheck(config: dict[str, Any]) -> None:
    for name, service in services(config).items():
        if name in ONE_SHOT:
            assert service.get("restart", "no") == "no"
            continue
        check = service.get("healthcheck")
        assert check and check.get("test") and not check.get("disable"), f"{name}: no healthcheck"
    tests = {
        name: " ".join(s["healthcheck"]["test"])
        for name, s in services(config).items()
        if name not in ONE_SHOT
    }
    assert "pg_isready" in tests["postgres"]
    assert "redis-cli ping" in tests["redis"]
    assert "/_localstack/health" in tests["localstack"]
    assert "http://127.0.0.1:8000/health" in tests["api"]
    assert "workers.scheduler --check-heartbeat" in tests["scheduler"]
    assert "http://127.0.0.1:18090/health" in tests["acquirer"]


def test_start_order(config: dict[str, Any]) -> None:
    svc = services(config)
    # migrate also bootstraps the emulator (secrets, the webhook KMS key): it needs LocalStack.
    assert svc["migrate"]["depends_on"] == {
        "postgres": {"condition": "service_healthy"},
        "localstack": {"condition": "service_healthy"},
    }
    for name in ("api", "scheduler"):
        depends = svc[name]["depends_on"]
        assert depends["migrate"] == {"condition": "service_completed_successfully"}
        assert depends["redis"] == {"condition": "service_healthy"}


def test_commands_are_the_ones_make_run_uses(config: dict[str, Any]) -> None:
    svc = services(config)
    assert svc["migrate"]["command"] == [
        "sh",
        "-c",
        "python -m infra.migrate && python -m infra.stack bootstrap",
    ]
    assert svc["api"]["command"] == [
        "python",
        "-m",
        "workers.serve",
        "--host",
        "0.0.0.0",
        "--port",
        "8000",
        "--stage",
        "local",
    ]
    assert svc["scheduler"]["command"] == ["python", "-m", "workers.scheduler"]
    run_py = (ROOT / "workers" / "run.py").read_text()
    assert '"-m", "workers.serve"' in run_py
    assert '"-m", "workers.scheduler"' in run_py


def _published(service: dict[str, Any]) -> set[tuple[str, int]]:
    """(published, target) of each port, in short ("127.0.0.1:1:2/tcp") or long syntax."""
    ports = set()
    for port in service.get("ports", []):
        if isinstance(port, dict):
            ports.add((str(port["published"]), int(port["target"])))
        else:
            *_, published, target = str(port).split("/")[0].split(":")
            ports.add((published, int(target)))
    return ports


def _mounts(service: dict[str, Any]) -> dict[str, str]:
    """target: source of each volume, in short ("src:dst:rw") or long syntax."""
    mounts = {}
    for volume in service.get("volumes", []):
        if isinstance(volume, dict):
            mounts[volume["target"]] = str(volume.get("source"))
        else:
            source, target, *_ = str(volume).split(":")
            mounts[target] = source
    return mounts


def test_ports_are_the_non_docker_paths(config: dict[str, Any]) -> None:
    svc = services(config)
    assert _published(svc["postgres"]) == {("54329", 5432)}
    assert _published(svc["redis"]) == {("63799", 6379)}
    assert _published(svc["localstack"]) == {("4566", 4566)}
    assert _published(svc["api"]) == {("8000", 8000)}  # ${PORT:-8000}
    # kms: the webhook secrets' key, made again from the stack-keys volume after a restart.
    assert svc["localstack"]["environment"]["SERVICES"] == "secretsmanager,events,logs,s3,kms"
    assert _mounts(svc["migrate"])["/app/.stack"] == "stack-keys"
    assert _published(svc["acquirer"]) == {("18090", 18090)}
    assert _mounts(svc["acquirer"])["/data"] == "acquirer-data"
    pg = svc["postgres"]
    assert pg["environment"]["POSTGRES_USER"] == "gateway"
    mounts = _mounts(pg)
    assert mounts["/var/lib/postgresql/data"] == "postgres-data"  # a named volume
    assert "postgres-data" in config["volumes"]
    init = [t for t in mounts if t.startswith("/docker-entrypoint-initdb.d/")]
    assert init, "gateway_test is not created on a new volume"
    assert Path(mounts[init[0]]) == ROOT / "infra/docker/postgres-init.sql"
    assert "CREATE DATABASE gateway_test" in (ROOT / "infra/docker/postgres-init.sql").read_text()


# --------------------------------------------------------------------------- heartbeat
def _check_heartbeat(path: Path, max_age: str) -> int:
    env = {**os.environ, "SCHEDULER_HEARTBEAT_FILE": str(path)}
    return subprocess.run(
        [sys.executable, "-m", "workers.scheduler", "--check-heartbeat", max_age],
        cwd=ROOT,
        env=env,
        check=False,
        timeout=60,
    ).returncode


def test_heartbeat_check(tmp_path: Path) -> None:
    path = tmp_path / "heartbeat"
    assert _check_heartbeat(path, "60") == 1  # missing
    path.touch()
    assert _check_heartbeat(path, "60") == 0
    old = time.time() - 600
    os.utime(path, (old, old))
    assert _check_heartbeat(path, "60") == 1


def test_running_scheduler_beats(tmp_path: Path) -> None:
    path = tmp_path / "heartbeat"
    env = {
        **os.environ,
        "STAGE": "test",
        "SCHEDULER_HEARTBEAT_FILE": str(path),
        "SCHEDULER_INTERVAL_S": "0.2",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "workers.scheduler", "--stage", "test"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:

        def alive_and(condition: Callable[[], bool]) -> Callable[[], bool]:
            def check() -> bool:
                assert proc.poll() is None, "scheduler exited"
                return condition()

            return check

        wait_until(alive_and(path.exists), timeout=60, step=0.1)
        first = path.stat().st_mtime_ns
        # It beats again after an invocation.
        wait_until(alive_and(lambda: path.stat().st_mtime_ns != first), timeout=60, step=0.1)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert _check_heartbeat(path, "60") == 0
