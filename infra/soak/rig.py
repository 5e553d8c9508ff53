"""The soak's processes: two acquirers, the fault proxy in front of them, and `make run`.

Both acquirers are started here, each with empty books of its own (so that the
settlement files hold this run's charges only), on the ports after the stack's acquirer
(GATEWAY_ACQUIRER_PORT + 1 and + 2; the proxy on + 3 and + 4, its control on + 5). The
gateway (`workers.run`, as `make run` runs it) reaches them only through the fault
proxy, as connectors `acquirer` and `acquirer2`. The kill functions signal the real
processes: Postgres and Redis by the stack's pid files, the server and the scheduler as
children of `workers.run`.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from infra import procs, stack_supervisor
from infra.stack_base import ACQUIRER_PORT, HOST, ROOT, port_open

CONNECTORS = ("acquirer", "acquirer2")

#: short deadlines and inquiries, so that unknown outcomes and inquiries are frequent
GATEWAY_SETTINGS = {
    "ACQUIRER_DEADLINE_S": "1",
    "INQUIRY_FIRST_DELAY_S": "0",
    "INQUIRY_BASE_S": "0.5",
    "INQUIRY_CAP_S": "4",
    "BREAKER_MIN_CALLS": "5",
    "BREAKER_WINDOW_S": "10",
    "BREAKER_COOLDOWN_S": "5",
    "RATE_LIMIT_PER_S": "1000",
    "RATE_LIMIT_BURST": "2000",
    "SERVE_WORKERS": "2",
    # manual payments left uncaptured expire (and are voided) within the soak
    "AUTHORIZATION_TTL_S": "20",
}


class Rig:
    def __init__(self, workdir: Path, seed: int, gateway_port: int) -> None:
        self.workdir = workdir
        self.seed = seed
        base = ACQUIRER_PORT + 1
        self.acquirer_ports = {"acquirer": base, "acquirer2": base + 1}
        self.proxy_ports = {"acquirer": base + 2, "acquirer2": base + 3}
        self.proxy_admin = f"http://{HOST}:{base + 4}"
        self.gateway_url = f"http://{HOST}:{gateway_port}"
        self.gateway_port = gateway_port
        self.supervised = set(filter(None, os.environ.get("GATEWAY_SUPERVISED", "").split(",")))
        self.acquirers: dict[str, subprocess.Popen] = {}
        self.proxy: subprocess.Popen | None = None
        self.gateway: subprocess.Popen | None = None
        self.env: dict[str, str] = {}
        self.overrides: dict[str, str] = {}

    def use_database(self, database: str, redis_db: int) -> None:
        """Run the gateway on a database and Redis db of its own, emptied and migrated
        first, with commits durable: a payment answered 202 must survive the Postgres kill."""
        import redis

        from infra import durability, migrate
        from infra.stack_base import log
        from infra.stack_postgres import create_databases, drop_database

        base = os.environ["DATABASE_URL"].rsplit("/", 1)[0]
        drop_database(base, database)
        create_databases(base, (database,))
        redis_url = f"{os.environ['REDIS_URL'].rsplit('/', 1)[0]}/{redis_db}"
        redis.Redis.from_url(redis_url).flushdb()
        mode = "local" if self.supervised else "given"
        durability.apply(
            mode=mode,
            database_base_url=base,
            database=database,
            redis_url=redis_url,
            durable=True,
            log=log,
        )
        migrate.migrate(f"{base}/{database}")
        self.overrides = {"DATABASE_URL": f"{base}/{database}", "REDIS_URL": redis_url}

    def acquirer_url(self, name: str) -> str:
        return f"http://{HOST}:{self.acquirer_ports[name]}"

    # ------------------------------------------------------------------ start and stop
    def _spawn(self, name: str, command: list[str], env: dict[str, str] | None = None):
        log = open(self.workdir / f"{name}.log", "ab")
        return subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def start_acquirer(self, name: str) -> None:
        """Start (or start again, on the same books) the acquirer `name`."""
        data = self.workdir / name
        data.mkdir(exist_ok=True)
        port = str(self.acquirer_ports[name])
        command = [sys.executable, "-m", "infra.acquirer", "--host", HOST, "--port", port]
        self.acquirers[name] = self._spawn(name, [*command, "--data-dir", str(data)])
        wait_http(f"{self.acquirer_url(name)}/health", 30)

    def acquirer_running(self, name: str) -> bool:
        proc = self.acquirers.get(name)
        return proc is not None and proc.poll() is None

    def start(self) -> None:
        for name, port in self.acquirer_ports.items():
            if port_open(HOST, port):
                raise SystemExit(f"[soak] {HOST}:{port} is taken (the soak's {name})")
            self.start_acquirer(name)
        routes = [f"{self.proxy_ports[n]}={HOST}:{self.acquirer_ports[n]}" for n in CONNECTORS]
        admin_port = self.proxy_admin.rsplit(":", 1)[1]
        self.proxy = self._spawn(
            "fault_proxy",
            [sys.executable, "-m", "infra.fault_proxy", "--admin-port", admin_port]
            + [arg for route in routes for arg in ("--route", route)]
            + ["--seed", str(self.seed)],
        )
        wait_http(f"{self.proxy_admin}/faults", 30)
        urls = {n: f"http://{HOST}:{self.proxy_ports[n]}" for n in CONNECTORS}
        self.env = {
            **os.environ,
            **GATEWAY_SETTINGS,
            "STAGE": os.environ.get("STAGE", "local"),
            "PORT": str(self.gateway_port),
            "ACQUIRER_URLS": json.dumps(urls),
            "CONNECTORS": json.dumps(list(CONNECTORS)),
            **self.overrides,
        }
        self.gateway = self._spawn("gateway", [sys.executable, "-m", "workers.run"], self.env)
        wait_http(f"{self.gateway_url}/health", 90)

    def create_merchant(self) -> tuple[str, str]:
        """A merchant of the soak's own, routed over both acquirers."""
        made = self.admin("create-merchant", "--name", f"Soak {self.seed}")
        merchant = made["merchant_id"]
        self.admin("set-connectors", "--merchant", merchant, "--connectors", ",".join(CONNECTORS))
        return merchant, made["api_key"]

    def admin(self, *args: str) -> dict[str, Any]:
        done = subprocess.run(
            [sys.executable, "-m", "workers.admin", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if done.returncode != 0:
            return {"error": (done.stderr or done.stdout).strip()[-500:]}
        return json.loads(done.stdout)

    def stop(self) -> None:
        every = [self.gateway, self.proxy, *self.acquirers.values()]
        for proc in every:
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in every:
            if proc is not None:
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()

    # ------------------------------------------------------------------ faults
    def proxy_faults(self, config: dict[str, Any] | None) -> None:
        with httpx.Client(timeout=5) as http:
            if config is None:
                http.delete(f"{self.proxy_admin}/faults").raise_for_status()
            else:
                http.put(f"{self.proxy_admin}/faults", json=config).raise_for_status()

    def proxy_stats(self) -> dict[str, int]:
        try:
            return httpx.get(f"{self.proxy_admin}/stats", timeout=5).json()
        except httpx.HTTPError:
            return {}

    def acquirer_down(self, name: str, seconds: float) -> str:
        httpx.post(
            f"{self.acquirer_url(name)}/admin/down", json={"seconds": seconds}, timeout=5
        ).raise_for_status()
        return f"{name} down for {seconds:.0f} s"

    def kill(self, target: str) -> tuple[int | None, str]:
        """SIGKILL (Postgres: `pg_ctl stop -m immediate`) one real process: (pid, what)."""
        run_pid = self.gateway.pid if self.gateway else 0
        if target in ("server", "server_worker", "scheduler"):
            needle = "workers.scheduler" if target == "scheduler" else "workers.serve"
            pid = procs.child_running(run_pid, needle)
            if pid and target == "server_worker":
                workers = procs.children(pid)
                pid = workers[self.seed % len(workers)][0] if workers else None
            if pid:
                os.kill(pid, signal.SIGKILL)
            return pid, target
        if target in self.acquirers:
            proc = self.acquirers[target]
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            return proc.pid, target
        service = stack_supervisor.services()[target]
        pid = stack_supervisor.pid_of(service)
        if pid is None:
            return None, target
        if target == "postgres":
            from infra.stack_postgres import _as_pg_user, _pg_bindir, _pg_data_dir

            stop = [str(_pg_bindir() / "pg_ctl"), "-D", str(_pg_data_dir()), "-m", "immediate"]
            subprocess.run(_as_pg_user([*stop, "stop"]), capture_output=True, check=False)
        else:
            os.kill(pid, signal.SIGKILL)
        return pid, target

    def recovered(self, target: str, old_pid: int | None) -> bool:
        """Is `target` back (a new process that answers)?"""
        run_pid = self.gateway.pid if self.gateway else 0
        if target == "server":  # a new server (its old workers answer for up to 1 s)
            server = procs.child_running(run_pid, "workers.serve")
            return server not in (None, old_pid) and _healthy(f"{self.gateway_url}/health")
        if target == "server_worker":  # the server forked a replacement
            server = procs.child_running(run_pid, "workers.serve")
            workers = procs.children(server) if server else []
            wanted = int(GATEWAY_SETTINGS["SERVE_WORKERS"])
            return old_pid not in {pid for pid, _ in workers} and len(workers) >= wanted
        if target == "scheduler":
            return procs.child_running(run_pid, "workers.scheduler") not in (None, old_pid)
        if target in self.acquirers:
            return _healthy(f"{self.acquirer_url(target)}/health")
        service = stack_supervisor.services()[target]
        return stack_supervisor.pid_of(service) not in (None, old_pid) and port_open(
            HOST, service.port
        )


def _healthy(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def wait_http(url: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not _healthy(url):
        if time.monotonic() > deadline:
            raise SystemExit(f"[soak] {url} did not answer 200 within {seconds:.0f} s")
        time.sleep(0.2)
