"""Serve the API with Chalice's own local server, minus its measured traps.

- Chalice writes replies in two sends (headers, then body); on a kept-alive
  connection Nagle's algorithm and the client's delayed ACK then stall every
  request by ~40 ms. `TCP_NODELAY` on each accepted socket removes the stall, and
  an answer with a body goes out in one send (`workers/http_server.py`).
- The standard library listens with a backlog of 5; a burst of new connections
  gets resets. The backlog is raised.
- `app.current_request` is per thread (Chalice's LocalChalice), so concurrent
  requests never see each other's body or key.
- Abusive clients are refused (body framing, header caps, read deadlines, a bound
  on connections): see `workers/http_limits.py`; the server and its request
  handler are in `workers/http_server.py`, Chalice's local gateway with the caller's
  address and a route table built once in `workers/local_gateway.py`.
- One Python process serves at most one core's worth of requests (the GIL): the
  server forks `--workers` processes (default: one per core, at least 2) that
  accept on the same listening socket, as gunicorn's workers do. Measured on 2
  cores with 8 keep-alive clients: 1 process ~410-520 payments/s, 2 processes
  ~600-690/s. The workers take turns so that kept-alive connections spread evenly
  over them (`workers/accept_balance.py`). The parent only supervises: it restarts
  a worker that dies and stops them all on SIGINT/SIGTERM.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
import traceback

from chalice import local

from workers.accept_balance import AcceptBalance
from workers.http_server import make_server
from workers.stage import load_stage


def default_workers() -> int:
    return max(2, os.cpu_count() or 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve the gateway API locally")
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--stage", default=os.environ.get("STAGE", "local"))
    parser.add_argument(
        "--workers",
        type=int,
        default=int(os.environ.get("SERVE_WORKERS") or default_workers()),
        help="processes accepting on the port (default: SERVE_WORKERS, else one per core, "
        "at least 2)",
    )
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    _factory, config, app = load_stage(args.stage)
    server = make_server(app, config, args.host, args.port)
    print(
        f"Serving on http://{args.host}:{args.port} (stage {args.stage},"
        f" {args.workers} worker{'s' if args.workers > 1 else ''})",
        flush=True,
    )
    if args.workers == 1:
        _install_stop_handlers()
        return _serve(server)
    server.server.balance = AcceptBalance(args.workers)
    return _supervise(server, args.workers)


def _stop(_signum: int, _frame: object) -> None:
    raise SystemExit(0)


def _install_stop_handlers() -> None:
    # Explicit handlers: a process started in the background inherits SIGINT ignored.
    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)


def _serve(server: local.LocalDevServer) -> int:
    try:
        server.server.serve_forever()
    except SystemExit:
        pass
    finally:
        server.server.server_close()
    return 0


def _supervise(server: local.LocalDevServer, workers: int) -> int:
    """Fork the workers, restart any that dies, stop them all on SIGINT/SIGTERM.

    The parent forks before it has any thread or connection (the app opens its
    pools lazily), so each worker starts clean.
    """
    _install_stop_handlers()
    running: dict[int, tuple[float, int]] = {}  # pid -> (started, slot in the accept balance)
    quick_deaths = 0
    try:
        for index in range(workers):
            running[_fork_worker(server, index)] = (time.monotonic(), index)
        while True:
            pid, status = os.wait()
            if pid not in running:
                continue
            started, index = running.pop(pid)
            lived = time.monotonic() - started
            if server.server.balance is not None:
                server.server.balance.reset(index)
            code = os.waitstatus_to_exitcode(status)
            print(f"worker {pid} exited ({code}) after {lived:.1f} s", file=sys.stderr, flush=True)
            quick_deaths = quick_deaths + 1 if lived < 5 else 0
            if quick_deaths >= 3:
                print("workers keep dying at start; stopping", file=sys.stderr, flush=True)
                return 1
            running[_fork_worker(server, index)] = (time.monotonic(), index)
    except SystemExit:
        return 0
    finally:
        _stop_workers(list(running))
        server.server.server_close()


def _fork_worker(server: local.LocalDevServer, index: int) -> int:
    pid = os.fork()
    if pid:
        return pid
    if server.server.balance is not None:
        server.server.balance.join(index)
    # The worker: serve until told to stop, or until the parent is gone.
    code = 1
    try:  # the stop handlers are the parent's, inherited
        parent = os.getppid()
        threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True).start()
        code = _serve(server)
    except BaseException:
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)  # never return into the parent's code


def _exit_with_parent(parent: int) -> None:
    """A worker whose supervisor was killed (SIGKILL) stops within a second."""
    while os.getppid() == parent:
        time.sleep(1)
    os.kill(os.getpid(), signal.SIGTERM)


def _stop_workers(pids: list[int]) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + 10
    for pid in pids:
        while time.monotonic() < deadline:
            try:
                done, _status = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                break
            if done:
                break
            time.sleep(0.05)
        else:
            try:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass


if __name__ == "__main__":
    sys.exit(main())
