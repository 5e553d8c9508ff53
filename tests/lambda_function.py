"""The deployment zip run the way Lambda runs it: one execution environment per process.

`functions(sam)` reads each function of the packaged SAM template (the build output,
`build/cloudformation/sam.json`): its handler string, timeout, memory, SnapStart and
environment. `ExecutionEnvironment` unpacks nothing itself; given the unpacked zip (the
task root, read-only as `/var/task`) and a runtime directory (what the python3.12
runtime provides: `awslambdaric` with its native `runtime_client`, boto3 and its
dependencies, `snapshot_restore_py`), it starts a fresh isolated interpreter (`-I -S`)
whose bootstrap hands the template's handler string to `awslambdaric`, against its own
`RuntimeApi` (tests/lambda_runtime.py).

The environment is the function's, from the template, with each value that names a
resource of the stack (`Ref`, `Fn::GetAtt`, `Fn::If`) pointed at the local stack
(`local_environment`): the database and Redis secrets are created in the AWS emulator's
Secrets Manager (the database's in RDS's managed-secret format, so the prod path reads
it), the HMAC secrets and the KMS key are the stack's own. One literal is changed:
`DATABASE_SSLMODE` is `disable`, because the local Postgres has no TLS (RDS Proxy
requires it). A new variable that names a resource fails here until it is mapped.
Where the template gives the function the AWS Parameters and Secrets extension (its
layer and PARAMETERS_SECRETS_EXTENSION_HTTP_PORT), each environment runs its own
stand-in (tests/secrets_extension.py) on a free port, with a session token as Lambda
sets; `secrets_extension_on=False` starts one as deployed without it (boto3 reads).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from tests import secrets_extension
from tests.lambda_runtime import Invocation, RuntimeApi
from tests.lambda_task import runtime_dir, unpack_read_only

__all__ = ["ExecutionEnvironment", "FunctionSpec", "LocalStack", "functions"]
__all__ += ["local_environment", "runtime_dir", "unpack_read_only"]

LOCAL_LITERALS = {"DATABASE_SSLMODE": "disable"}  # no TLS on the local Postgres


@dataclass(frozen=True)
class FunctionSpec:
    """One `AWS::Serverless::Function` of the template."""

    logical_id: str
    handler: str
    timeout_s: int
    memory_mb: int
    snapstart: bool
    variables: dict[str, Any]
    reserved_concurrency: Any
    layers: Any = None


def functions(sam: dict[str, Any]) -> dict[str, FunctionSpec]:
    """Every function of the template, by its handler's attribute (`app`, `process_payments`)."""
    found = {}
    for logical_id, resource in sam["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        props = {**sam.get("Globals", {}).get("Function", {}), **resource["Properties"]}
        spec = FunctionSpec(
            logical_id=logical_id,
            handler=props["Handler"],
            timeout_s=int(props["Timeout"]),
            memory_mb=int(props["MemorySize"]),
            snapstart=props.get("SnapStart", {}).get("ApplyOn") == "PublishedVersions",
            variables=props.get("Environment", {}).get("Variables", {}),
            reserved_concurrency=props.get("ReservedConcurrentExecutions"),
            layers=props.get("Layers"),
        )
        found[spec.handler.rsplit(".", 1)[1]] = spec
    return found


class LocalStack:
    """The local stack's stand-ins for the template's resources, made once per run."""

    def __init__(self, environ: dict[str, str] | None = None) -> None:
        self.environ = dict(environ or os.environ)
        self.region = self.environ.get("AWS_DEFAULT_REGION", "us-east-1")
        self.credentials = {
            "AWS_ACCESS_KEY_ID": self.environ.get("AWS_ACCESS_KEY_ID", "testing"),
            "AWS_SECRET_ACCESS_KEY": self.environ.get("AWS_SECRET_ACCESS_KEY", "testing"),
        }
        tag = uuid.uuid4().hex[:8]
        url = urlsplit(self.environ["DATABASE_URL"])
        self.database_host = url.hostname or "127.0.0.1"
        self.database_name = url.path.lstrip("/")
        self.database_secret = self._secret(
            f"gateway/lambda-test-{tag}/database",
            # RDS's managed master secret: username and password (host etc. may be absent)
            json.dumps(
                {
                    "username": unquote(url.username or ""),
                    "password": unquote(url.password or ""),
                    "host": "database.stand-in.invalid",
                    "port": url.port or 5432,
                    "engine": "postgres",
                }
            ),
        )
        self.redis_secret = self._secret(
            f"gateway/lambda-test-{tag}/redis", self.environ["REDIS_URL"]
        )

    def _secret(self, name: str, value: str) -> str:
        import boto3

        client = boto3.client(
            "secretsmanager",
            endpoint_url=self.environ["AWS_ENDPOINT_URL"],
            region_name=self.region,
            **{k.lower(): v for k, v in self.credentials.items()},
        )
        return str(client.create_secret(Name=name, SecretString=value)["ARN"])

    def resolve(self, name: str) -> str:
        """The local value of a variable that names one of the template's resources."""
        local = {
            "DATABASE_SECRET_ID": self.database_secret,
            "DATABASE_HOST": self.database_host,  # the RDS Proxy endpoint
            "DATABASE_NAME": self.database_name,
            "REDIS_SECRET_ID": self.redis_secret,
            "WEBHOOK_SECRETS_KMS_KEY_ID": self.environ.get("WEBHOOK_SECRETS_KMS_KEY_ID"),
            "IDEMPOTENCY_HMAC_SECRET_ID": self.environ.get("IDEMPOTENCY_HMAC_SECRET_ID"),
            "API_KEY_HMAC_SECRET_ID": self.environ.get("API_KEY_HMAC_SECRET_ID"),
            "RECONCILIATION_BUCKET": self.environ.get(
                "RECONCILIATION_BUCKET", "gateway-reconciliation"
            ),
            "ACQUIRER_URL": self.environ.get("ACQUIRER_URL"),
        }
        if name not in local:
            raise KeyError(f"template variable {name} names a resource: map it to the local stack")
        value = local[name]
        if value is None:
            raise KeyError(f"the local stack does not set {name}")
        return value


def local_environment(spec: FunctionSpec, stack: LocalStack) -> dict[str, str]:
    """The function's variables, its resources pointed at the local stack."""
    env = {}
    for name, value in spec.variables.items():
        if name == secrets_extension.EXTENSION_PORT:
            continue  # the environment's own stand-in (ExecutionEnvironment)
        if isinstance(value, str):
            env[name] = LOCAL_LITERALS.get(name, value)
        else:
            env[name] = stack.resolve(name)
    return env


class ExecutionEnvironment:
    """One Lambda execution environment: the runtime client in its own process."""

    def __init__(
        self,
        spec: FunctionSpec,
        task_root: Path,
        runtime: Path,
        stack: LocalStack,
        log_path: Path,
        *,
        snapstart: bool = False,
        handler: str | None = None,
        extra_env: dict[str, str] | None = None,
        secrets_extension_on: bool = True,
    ) -> None:
        """`secrets_extension_on=False`: as deployed without the extension's layer
        (SecretsExtensionLayerArn empty), the secrets are read through boto3."""
        self.spec = spec
        name = f"payment-gateway-prod-{spec.logical_id}"
        self.api = RuntimeApi(name, stack.region)
        self.extension: secrets_extension.SecretsExtension | None = None
        with_extension: dict[str, str] = {}
        if secrets_extension_on and secrets_extension.configured(spec.variables, spec.layers):
            self.extension, with_extension = secrets_extension.start_for(
                stack.environ, stack.region, stack.credentials, self.api.invoking
            )
            if snapstart:  # Lambda sets no session token under SnapStart (container
                del with_extension["AWS_SESSION_TOKEN"]  # credentials instead)
        self.env = {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "LANG": "en_US.UTF-8",
            "TZ": ":UTC",
            "PYTHONDONTWRITEBYTECODE": "1",  # /var/task is read-only
            "LAMBDA_TASK_ROOT": str(task_root),
            "LAMBDA_RUNTIME_DIR": str(runtime),
            "_HANDLER": handler or spec.handler,
            "AWS_LAMBDA_RUNTIME_API": self.api.address,
            "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
            "AWS_LAMBDA_FUNCTION_NAME": name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
            "AWS_LAMBDA_FUNCTION_VERSION": "1",
            "AWS_LAMBDA_INITIALIZATION_TYPE": "snap-start" if snapstart else "on-demand",
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": f"2026/12/07/[1]{uuid.uuid4().hex}",
            "AWS_REGION": stack.region,
            "AWS_DEFAULT_REGION": stack.region,
            # The role's credentials; the emulator's endpoint instead of AWS's.
            **stack.credentials,
            "AWS_ENDPOINT_URL": stack.environ["AWS_ENDPOINT_URL"],
            **local_environment(spec, stack),
            **with_extension,
            **(extra_env or {}),
        }
        self.log_path = log_path
        self._log = open(log_path, "wb")
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            [sys.executable, "-I", "-S", "-B", str(runtime / "bootstrap.py")],
            cwd=task_root,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self, timeout_s: float = 60) -> float:
        """Wait until the init is done (the first `/next`, or the snapshot point with
        SnapStart); the init's milliseconds. Fails on an init error or an early exit."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            calls = self.api.calls
            if "invocation/next" in calls or "restore/next" in calls:
                return (time.perf_counter() - self.started) * 1000
            if self.process.poll() is not None:
                raise RuntimeError(f"the runtime exited at init:\n{self.log_text()}")
            time.sleep(0.005)
        raise TimeoutError(f"no init within {timeout_s}s:\n{self.log_text()}")

    def invoke(self, event: Any, timeout_s: float | None = None) -> Invocation:
        """One invocation with the function's timeout (or `timeout_s`) as its deadline;
        past it, the environment is stopped, as Lambda does ("Task timed out")."""
        seconds = self.spec.timeout_s if timeout_s is None else timeout_s
        invocation = self.api.submit(event, seconds)
        if not invocation.done.wait(seconds + 2):
            self.stop()
            raise TimeoutError(f"Task timed out after {seconds:.2f} seconds:\n{self.log_text()}")
        return invocation

    def peak_rss_mb(self) -> float:
        """The process's peak resident memory so far: Lambda's `Max Memory Used`."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError("no VmHWM")

    def log_text(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")[-6000:]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.api.close()
        if self.extension is not None:
            self.extension.close()
        self._log.close()
