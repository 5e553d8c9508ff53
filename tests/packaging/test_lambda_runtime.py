"""The deployment zip under AWS's runtime interface client, against our Lambda Runtime API.

Each test starts execution environments (tests/lambda_function.py) of the functions the
packaged SAM template declares, with their handler strings, timeouts and prod
environments (secrets from the AWS emulator's Secrets Manager), and sends them the events
API Gateway and EventBridge send.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from urllib.parse import urlsplit

import pytest

from bench import aws_cost
from chalicelib import db, settings
from chalicelib.services.merchants import CreatedMerchant
from chalicelib.settings import Settings
from tests.lambda_events import create_payment_event, scheduled_event, tcp_peer_ports
from tests.lambda_function import ExecutionEnvironment, functions
from tests.packaging.conftest import ROOT, Package
from tests.support import wait_until

Start = Callable[..., ExecutionEnvironment]
SECRETS = ("DATABASE", "REDIS", "IDEMPOTENCY_HMAC", "API_KEY_HMAC")


def _status(payment_id: str) -> str:
    with db.connection() as conn:
        row = conn.execute("SELECT status FROM payments WHERE id = %s", (payment_id,)).fetchone()
    assert row is not None
    return str(row["status"])


def test_the_template_names_the_handlers(package: Package, start_function: Start) -> None:
    api = start_function("app")
    drain = start_function("process_payments")
    assert (api.env["_HANDLER"], drain.env["_HANDLER"]) == ("app.app", "app.process_payments")
    for env in (api, drain):
        assert env.env["STAGE"] == "prod"
        # prod reads its connections from Secrets Manager, never from a URL variable
        assert "DATABASE_URL" not in env.env and "REDIS_URL" not in env.env
        assert env.env["DATABASE_SECRET_ID"].startswith("arn:aws:secretsmanager:")
    assert drain.env["DB_POOL_MAX_SIZE"] == "6" and api.env["DB_POOL_MAX_SIZE"] == "2"


def test_an_api_event_creates_a_payment_and_the_schedule_drains_it(
    start_function: Start, merchant: CreatedMerchant
) -> None:
    api = start_function("app")
    api.wait_ready()
    order_id = f"ric_{uuid.uuid4().hex[:12]}"
    created = api.invoke(create_payment_event(merchant.api_key, order_id))

    assert created.error is None, created.error
    answer = created.result
    assert answer["statusCode"] == 202, answer
    payment = json.loads(answer["body"])
    assert payment["status"] == "PENDING" and payment["order_id"] == order_id
    assert answer["headers"]["Location"] == f"/api/v1/payments/{payment['id']}"

    # The template gives the function the Parameters and Secrets extension: the four
    # secrets were read through it, once each, during the invocation.
    assert api.extension is not None
    read = {secret: status for secret, status in api.extension.calls}
    assert len(api.extension.calls) == 4 and set(read.values()) == {200}, api.extension.calls
    assert set(read) == {api.env[f"{n}_SECRET_ID"] for n in SECRETS}

    drain = start_function("process_payments")
    drain.wait_ready()
    run = drain.invoke(scheduled_event("process_payments"))
    assert run.error is None, run.error
    summary = run.result
    assert "error" not in summary, summary
    assert summary["claimed"] >= 1 and summary["succeeded"] >= 1
    assert _status(payment["id"]) == "SUCCESS"
    # One event at a time: each answer is followed by the next poll.
    for env in (api, drain):
        wait_until(lambda env=env: env.api.calls.count("invocation/next") == 2, timeout=10)
        assert env.api.calls == ["invocation/next", "invocation/response", "invocation/next"]


def test_without_the_extension_the_secrets_are_read_through_boto3(
    start_function: Start, merchant: CreatedMerchant
) -> None:
    """Deployed with SecretsExtensionLayerArn empty: no layer, no port variable, and the
    function reads its secrets through boto3 (chalicelib/secret_values.py)."""
    api = start_function("app", secrets_extension_on=False)
    assert api.extension is None and "PARAMETERS_SECRETS_EXTENSION_HTTP_PORT" not in api.env
    api.wait_ready()
    created = api.invoke(create_payment_event(merchant.api_key, f"sdk_{uuid.uuid4().hex[:10]}"))
    assert created.error is None, created.error
    assert created.result["statusCode"] == 202, created.result


def test_a_deadline_shorter_than_a_batch_stops_claiming(
    package: Package, start_function: Start, merchant: CreatedMerchant
) -> None:
    """The handler keeps a margin (TIME_BUDGET_MARGIN_MS) for the batch in flight:
    with less time than that left it claims nothing and returns at once; with a little
    more it claims while it may, and returns before the deadline leaves it no margin."""
    api = start_function("app")
    api.wait_ready()
    ids = []
    for _ in range(3):
        created = api.invoke(create_payment_event(merchant.api_key, f"dl_{uuid.uuid4().hex[:10]}"))
        ids.append(json.loads(created.result["body"])["id"])
    drain = start_function("process_payments")
    drain.wait_ready()
    margin_s = int(drain.env["TIME_BUDGET_MARGIN_MS"]) / 1000

    short = drain.invoke(scheduled_event("process_payments"), timeout_s=margin_s - 2)
    assert short.error is None, short.error
    assert short.result["claimed"] == 0, short.result
    assert short.deadline_ms - short.done_at_epoch_ms > 10_000, "it did not return in time"
    assert [_status(i) for i in ids] == ["PENDING"] * 3  # nothing taken, nothing lost

    tight = drain.invoke(scheduled_event("process_payments"), timeout_s=margin_s + 3)
    assert tight.error is None, tight.error
    left_ms = tight.deadline_ms - tight.done_at_epoch_ms
    assert left_ms > margin_s * 1000 - 3000, f"returned with {left_ms:.0f} ms left"
    full = drain.invoke(scheduled_event("process_payments"))
    assert tight.result["claimed"] + full.result["claimed"] >= 3
    assert [_status(i) for i in ids] == ["SUCCESS"] * 3


@pytest.mark.parametrize("through", ["extension", "boto3"])
def test_an_unhandled_error_is_reported_through_error(start_function: Start, through: str) -> None:
    """A secret the function cannot read (deleted, or a role without the grant) is not a
    dependency outage the handler rides out: it fails the invocation, through /error,
    and the environment goes on to the next event. Through the Parameters and Secrets
    extension the error is the extension's answer (Secrets Manager's, relayed); through
    boto3 it is boto3's."""
    gone = "arn:aws:secretsmanager:us-east-1:123456789012:secret:gone"
    drain = start_function(
        "process_payments",
        extra_env={"REDIS_SECRET_ID": gone},
        secrets_extension_on=through == "extension",
    )
    drain.wait_ready()
    failed = drain.invoke(scheduled_event("process_payments"))
    assert failed.response is None
    assert failed.error is not None
    kind = "SecretReadError" if through == "extension" else "ResourceNotFoundException"
    assert failed.error["errorType"] == kind, failed.error
    assert "ResourceNotFoundException" in failed.error["errorMessage"] or through == "boto3"
    assert failed.error["stackTrace"], failed.error
    # the fault for X-Ray, in the header the runtime API documents for it
    assert failed.xray_cause is not None
    assert failed.xray_cause["exceptions"][0]["type"] == kind
    wait_until(lambda: drain.api.calls.count("invocation/next") == 2, timeout=10)
    assert drain.api.calls == ["invocation/next", "invocation/error", "invocation/next"]
    assert drain.process.poll() is None


def test_an_init_error_is_reported_through_init_error(start_function: Start) -> None:
    broken = start_function("process_payments", handler="app.no_such_handler")
    assert broken.process.wait(timeout=60) != 0
    assert broken.api.calls == ["init/error"]
    assert broken.api.init_error_type == "Runtime.HandlerNotFound"
    assert "no_such_handler" in broken.api.init_error["errorMessage"]


@pytest.mark.parametrize("through", ["extension", "boto3"])
def test_snapstart_hooks_run_before_the_snapshot_and_after_the_restore(
    start_function: Start, merchant: CreatedMerchant, through: str
) -> None:
    """With SnapStart the runtime runs the before-snapshot hooks after the init, waits at
    /restore/next while the snapshot is taken, then runs the after-restore hooks before it
    asks for an event. At the snapshot point the modules a first request needs are
    loaded (preload_modules) and no connection to Postgres or Redis is open
    (close_connections). After the restore, before any event (renew_after_restore), a
    fresh pool has connected to Postgres, its secrets read through boto3: with the
    Parameters and Secrets extension's layer too, since Lambda gives a SnapStart
    function no AWS_SESSION_TOKEN and the extension refuses a request without one (the
    stand-in does, as AWS documents); the extension is never asked."""
    api = start_function("app", snapstart=True, secrets_extension_on=through == "extension")
    api.wait_ready()
    assert api.api.snapshot_point.wait(30)
    pid = api.process.pid
    pg_port = urlsplit(settings.database_url()).port
    redis_port = urlsplit(settings.redis_url()).port
    maps = open(f"/proc/{pid}/maps").read()
    assert "pydantic_core" in maps and "psycopg_binary" in maps, "preload did not run"
    assert not tcp_peer_ports(pid) & {pg_port, redis_port}
    assert api.api.calls == ["restore/next"]

    api.api.restore.set()
    wait_until(lambda: "invocation/next" in api.api.calls, timeout=30)
    assert api.api.calls == ["restore/next", "invocation/next"]
    assert api.api.restore_error is None
    assert (api.extension is not None) is (through == "extension")
    assert "AWS_SESSION_TOKEN" not in api.env
    wait_until(lambda: pg_port in tcp_peer_ports(pid), timeout=30, step=0.05)

    created = api.invoke(create_payment_event(merchant.api_key, f"ss_{uuid.uuid4().hex[:10]}"))
    assert created.result["statusCode"] == 202, created.result
    if api.extension is not None:
        assert api.extension.calls == [], "a SnapStart function asked the extension"


def test_the_quoted_cost_figures_are_for_the_template_s_settings(package: Package) -> None:
    """docs/deploy.md's cost is computed with the memory and batch size the bench ran
    with; those must be what the packaged template sets."""
    figures = aws_cost.load(ROOT / "docs" / "bench" / "lambda-cost.jsonl")
    specs = functions(package.sam)
    accept = figures["lambda_accept_billed_ms"]
    drain = figures["lambda_drain_billed_ms_per_payment"]
    assert accept["memory_mb"] == specs["app"].memory_mb
    assert drain["memory_mb"] == specs["process_payments"].memory_mb
    variables = specs["process_payments"].variables
    assert drain["drain_workers"] == int(variables["DRAIN_WORKERS"])
    default_batch = Settings.model_fields["batch_size"].default
    assert drain["batch_size"] == int(variables.get("BATCH_SIZE", default_batch))
