"""A stand-in for the AWS Parameters and Secrets Lambda Extension, for one execution environment.

The extension is a layer AWS publishes (a binary, not installable here); in Lambda it
runs beside the runtime and serves, on localhost at PARAMETERS_SECRETS_EXTENSION_HTTP_PORT
(2773 by default), what AWS documents in "Use Secrets Manager secrets in Lambda
functions":

- `GET /secretsmanager/get?secretId=<id>` (optionally `versionId` or `versionStage`)
  answers 200 with GetSecretValue's JSON (`ARN`, `Name`, `VersionId`, `SecretString`,
  `VersionStages`, `CreatedDate`), from its cache (300 s by default,
  SECRETS_MANAGER_TTL) or from its own GetSecretValue call with the function's role;
- the request must carry `X-Aws-Parameters-Secrets-Token: <AWS_SESSION_TOKEN>`;
- it serves only during an invocation, never in the init phase.

This one reads the AWS emulator's Secrets Manager through boto3 (with the environment's
credentials), refuses a request without the token (401) and one made outside an
invocation (400, as the `invoking` callable tells), and relays Secrets Manager's error
as `{"__type", "message"}` with its HTTP status. Every request is recorded in `calls`.
Not part of the deployment zip.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.lambda_runtime import LocalApiHandler

TOKEN_HEADER = "X-Aws-Parameters-Secrets-Token"
TTL_S = 300.0  # the extension's default SECRETS_MANAGER_TTL


class SecretsExtension:
    """The extension of one environment, on 127.0.0.1 and a free port."""

    def __init__(
        self,
        *,
        endpoint_url: str,
        region: str,
        credentials: dict[str, str],
        session_token: str,
        invoking: Callable[[], bool],
    ) -> None:
        import boto3

        self._client = boto3.client(
            "secretsmanager",
            endpoint_url=endpoint_url,
            region_name=region,
            aws_access_key_id=credentials["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=credentials["AWS_SECRET_ACCESS_KEY"],
        )
        self.session_token = session_token
        self.invoking = invoking
        #: (secret id, status) of every request, in order.
        self.calls: list[tuple[str, int]] = []
        self._cache: dict[tuple[str, str, str], tuple[float, bytes]] = {}
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def get(self, query: dict[str, str], token: str | None) -> tuple[int, bytes]:
        """The answer to one `/secretsmanager/get`: status and body."""
        secret_id = query.get("secretId", "")
        if token != self.session_token:
            return 401, _error("UnauthorizedException", "missing or wrong token")
        if not self.invoking():
            return 400, _error("NotReadyException", "not ready to serve traffic, please wait")
        if not secret_id:
            return 400, _error("ValidationException", "secretId is required")
        key = (secret_id, query.get("versionId", ""), query.get("versionStage", ""))
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None and time.monotonic() - cached[0] < TTL_S:
                return 200, cached[1]
        args: dict[str, str] = {"SecretId": secret_id}
        if key[1]:
            args["VersionId"] = key[1]
        if key[2]:
            args["VersionStage"] = key[2]
        from botocore.exceptions import ClientError

        try:
            answer = self._client.get_secret_value(**args)
        except ClientError as exc:
            status = int(exc.response["ResponseMetadata"].get("HTTPStatusCode", 400))
            error = exc.response.get("Error", {})
            return status, _error(str(error.get("Code")), str(error.get("Message")))
        answer.pop("ResponseMetadata", None)
        body = json.dumps(answer, default=str).encode()
        with self._lock:
            self._cache[key] = (time.monotonic(), body)
        return 200, body


def _error(kind: str, message: str) -> bytes:
    return json.dumps({"__type": kind, "message": message}).encode()


def _handler_for(extension: SecretsExtension) -> type[BaseHTTPRequestHandler]:
    class Handler(LocalApiHandler):
        def do_GET(self) -> None:
            url = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            if url.path == "/secretsmanager/get":
                status, body = extension.get(query, self.headers.get(TOKEN_HEADER))
            else:
                status, body = 404, _error("NotFound", url.path)
            extension.calls.append((query.get("secretId", ""), status))
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            if self.request_version == "HTTP/1.0":
                self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)

    return Handler


EXTENSION_PORT = "PARAMETERS_SECRETS_EXTENSION_HTTP_PORT"
LAYER_PARAMETER = "SecretsExtensionLayerArn"  # the template's parameter naming the layer


def configured(variables: dict[str, Any], layers: Any) -> bool:
    """Whether the template gives a function the extension: its port variable, with the
    layer beside it (one without the other is a template error)."""
    has_port = EXTENSION_PORT in variables
    has_layer = LAYER_PARAMETER in json.dumps(layers)
    if has_port != has_layer:
        raise AssertionError(
            f"the template sets {EXTENSION_PORT} {'without' if has_port else 'but not'} "
            "the extension's layer"
        )
    return has_port


def start_for(
    environ: dict[str, str], region: str, credentials: dict[str, str], invoking: Callable[[], bool]
) -> tuple[SecretsExtension, dict[str, str]]:
    """The stand-in for one environment, and the variables Lambda would set with it: the
    port (the stand-in's, not 2773, so that environments can run side by side) and the
    role's session token, which Lambda always sets and the extension checks."""
    token = f"session-{uuid.uuid4().hex}"
    extension = SecretsExtension(
        endpoint_url=environ["AWS_ENDPOINT_URL"],
        region=region,
        credentials=credentials,
        session_token=token,
        invoking=invoking,
    )
    return extension, {EXTENSION_PORT: str(extension.port), "AWS_SESSION_TOKEN": token}
