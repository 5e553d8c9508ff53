"""The deployment zip runs: unpacked alone, in a clean interpreter, as Lambda would run it.

The zip is the very artifact `make package` builds for prod (x86_64, like this machine),
so what runs here is what AWS gets. The child interpreter is isolated (`-I -S`: no
site-packages, no PYTHON* variables); its path is the unpacked zip plus a directory
holding only what the Lambda Python runtime provides (boto3, botocore and their
dependencies, and `snapshot_restore_py`, through which the SnapStart hooks register).
It serves API Gateway REST proxy events through `app.app` and runs
`app.process_payments` with an EventBridge scheduled event, against the test stage's
Postgres and Redis.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import uuid
import zipfile
from pathlib import Path
from typing import Any

from chalicelib import db, settings
from chalicelib.services.merchants import CreatedMerchant
from tests.lambda_task import RUNTIME_MODULES
from tests.packaging.conftest import ROOT, Package

# What the python3.12 Lambda runtime has on its path besides the function's code.
LAMBDA_RUNTIME_MODULES = tuple(
    name for name in RUNTIME_MODULES if name not in ("awslambdaric", "runtime_client", "simplejson")
)  # the runtime's modules, less its runtime client (this test imports the handler itself)

CHILD = r"""
import json, sys, time, uuid
zip_dir, runtime_dir, api_key, order_id = sys.argv[1:5]
sys.path[:0] = [zip_dir, runtime_dir]

import app as handler_module  # what Lambda imports for handler "app.app"
import snapshot_restore_py

hooks = {
    "before_snapshot": [f.__module__ + "." + f.__qualname__
                        for f, _, _ in snapshot_restore_py.get_before_snapshot()],
    "after_restore": [f.__module__ + "." + f.__qualname__
                      for f, _, _ in snapshot_restore_py.get_after_restore()],
}

leaked = [p for p in sys.path if "site-packages" in p or p in ("", ".")]
assert not leaked, leaked


class Context:
    function_name = "payment-gateway-test"
    aws_request_id = str(uuid.uuid4())
    memory_limit_in_mb = 512

    def __init__(self, seconds):
        self.deadline = time.monotonic() + seconds

    def get_remaining_time_in_millis(self):
        return int((self.deadline - time.monotonic()) * 1000)


def rest_event(method, resource, path, path_params=None, body=None):
    headers = {"Authorization": "Bearer " + api_key, "Host": "api.example.com"}
    if body is not None:
        headers["Content-Type"] = "application/json"
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": path_params,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": resource,
            "httpMethod": method,
            "path": "/api" + path,
            "stage": "api",
            "requestId": str(uuid.uuid4()),
            "apiId": "abc123",
            "identity": {"sourceIp": "203.0.113.7"},
        },
        "body": None if body is None else json.dumps(body),
        "isBase64Encoded": False,
    }


created = handler_module.app(
    rest_event("POST", "/api/v1/payments", "/api/v1/payments", body={
        "order_id": order_id, "amount": 50000, "currency": "INR",
        "method": "upi", "vpa": "success@upi",
    }),
    Context(20),
)
payment_id = json.loads(created["body"]).get("id")
got = handler_module.app(
    rest_event("GET", "/api/v1/payments/{payment_id}", "/api/v1/payments/" + str(payment_id),
               {"payment_id": payment_id}),
    Context(20),
)
scheduled = {
    "version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event",
    "source": "aws.events", "account": "123456789012", "time": "2026-11-26T08:00:00Z",
    "region": "us-east-1",
    "resources": ["arn:aws:events:us-east-1:123456789012:rule/process_payments"],
    "detail": {},
}
runs = [handler_module.process_payments(scheduled, Context(30))]

import chalice, psycopg, pydantic_core, redis
origins = {m.__name__: m.__file__ for m in (chalice, psycopg, pydantic_core, redis, handler_module)}
print("RESULT " + json.dumps({
    "created": created, "got": got, "runs": runs, "origins": origins, "hooks": hooks,
    "hooks_origin": snapshot_restore_py.__file__,
    "psycopg_impl": psycopg.pq.__impl__,
    "boto3_loaded": "boto3" in sys.modules,
}))
"""


def _lambda_runtime_dir(dest: Path) -> Path:
    """boto3 and its dependencies, as the Lambda runtime provides them (symlinked)."""
    dest.mkdir()
    for name in LAMBDA_RUNTIME_MODULES:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            continue
        origin = Path(spec.origin)
        source = origin.parent if origin.name == "__init__.py" else origin
        (dest / source.name).symlink_to(source)
    return dest


def _stage_environment(stage: str) -> dict[str, str]:
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    return {
        **config.get("environment_variables", {}),
        **config["stages"][stage].get("environment_variables", {}),
    }


def _run_child(package: Package, tmp_path: Path, api_key: str, order_id: str) -> dict[str, Any]:
    code_dir = tmp_path / "task"  # /var/task
    code_dir.mkdir()
    with zipfile.ZipFile(package.zip_path) as zf:
        zf.extractall(code_dir)
    runtime_dir = _lambda_runtime_dir(tmp_path / "runtime")
    script = tmp_path / "invoke.py"
    script.write_text(CHILD)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        **_stage_environment("test"),
        "STAGE": "test",
        "DATABASE_URL": os.environ["DATABASE_URL"],
        "REDIS_URL": os.environ["REDIS_URL"],
        # The server key the stored key hashes were made with (prod reads it from
        # Secrets Manager with boto3, which the zip does not carry).
        "IDEMPOTENCY_HMAC_KEY": settings.idempotency_hmac_key().decode(),
        **_api_key_keyring(),
        "AWS_DEFAULT_REGION": "us-east-1",
        "LOG_LEVEL": "WARNING",
    }
    args = [str(script), str(code_dir), str(runtime_dir), api_key, order_id]
    proc = subprocess.run(
        [sys.executable, "-I", "-S", "-B", *args],
        cwd=code_dir,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    (line,) = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    result: dict[str, Any] = json.loads(line.removeprefix("RESULT "))
    result["code_dir"] = str(code_dir)
    return result


def test_the_zip_serves_http_and_processes_payments(
    package: Package, tmp_path: Path, merchant: CreatedMerchant
) -> None:
    order_id = f"zip_{uuid.uuid4().hex[:12]}"
    result = _run_child(package, tmp_path, merchant.api_key, order_id)

    for name, origin in result["origins"].items():
        assert origin.startswith(result["code_dir"]), f"{name} came from {origin}"
    assert result["psycopg_impl"] == "binary"
    # The runtime's snapshot_restore_py (never the zip's: it has none) got the hooks.
    assert result["hooks_origin"].startswith(str(Path(result["code_dir"]).parent / "runtime"))
    assert result["hooks"] == {
        "before_snapshot": [
            "chalicelib.snapstart.close_connections",
            "chalicelib.snapstart.preload_modules",
        ],
        "after_restore": ["chalicelib.snapstart.renew_after_restore"],
    }
    assert not result["boto3_loaded"], "boto3 is for prod secrets only: keep it lazy"

    created = result["created"]
    assert created["statusCode"] == 202, created
    payment = json.loads(created["body"])
    assert payment["status"] == "PENDING" and payment["order_id"] == order_id
    assert created["headers"]["Location"] == f"/api/v1/payments/{payment['id']}"
    got = result["got"]
    assert got["statusCode"] == 200, got
    assert json.loads(got["body"])["id"] == payment["id"]

    (run,) = result["runs"]
    assert "error" not in run, run
    assert run["claimed"] >= 1
    with db.connection() as conn:
        row = conn.execute(
            "SELECT status, vpa, attempts FROM payments WHERE id = %s", (payment["id"],)
        ).fetchone()
    assert row == {"status": "SUCCESS", "vpa": "success@upi", "attempts": 1}


def _api_key_keyring() -> dict[str, str]:
    """API_KEY_HMAC_KEY as the stack configured it (the keyring that hashed the keys)."""
    ring = settings.api_key_keyring()
    if ring is None:
        return {}
    return {"API_KEY_HMAC_KEY": json.dumps({str(v): k.decode() for v, k in ring.keys.items()})}
