"""`make package`: both formats, a template cfn-lint accepts, least privilege, a clean zip."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
from chalice.app import ScheduledEventConfig
from chalice.constants import MISSING_DEPENDENCIES_TEMPLATE

from infra import lambda_zip
from infra import package as packaging
from tests.packaging.conftest import ROOT, Package

API_GATEWAY_MAX_S = 29
CFN_LINT = "import sys; from cfnlint.runner import main; sys.exit(main())"


def _functions(sam: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: res["Properties"]
        for name, res in sam["Resources"].items()
        if res["Type"] == "AWS::Serverless::Function"
    }


def _schedules() -> list[ScheduledEventConfig]:
    from app import app

    return [s for s in app.event_sources if isinstance(s, ScheduledEventConfig)]


def _expression(schedule: ScheduledEventConfig) -> str:
    expr = schedule.schedule_expression
    return expr if isinstance(expr, str) else expr.to_string()


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_builds_both_formats_with_default_region_and_no_credentials(package: Package) -> None:
    for path in (
        "cloudformation/sam.json",
        "cloudformation/deployment.zip",
        "terraform/chalice.tf.json",
        "terraform/deployment.zip",
    ):
        assert (package.out / path).is_file(), path
    assert package.figures["region"] == "us-east-1"
    assert package.figures["arch"] == "x86_64"
    for props in _functions(package.sam).values():
        # Chalice targets the Python it runs under: the venv's, 3.12 or newer.
        assert props["Runtime"] == f"python3.{sys.version_info.minor}"
        assert sys.version_info >= (3, 12)
        assert props["Architectures"] == ["x86_64"]
    assert package.seconds < 120


def test_cloudformation_template_passes_cfn_lint(package: Package) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", CFN_LINT, str(package.out / "cloudformation" / "sam.json")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_template_has_the_rest_api_and_every_schedule_with_its_rate(package: Package) -> None:
    sam = package.sam
    assert sam["Resources"]["RestAPI"]["Type"] == "AWS::Serverless::Api"
    paths = sam["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]["paths"]
    assert "/api/v1/payments" in paths and "/api/v1/payments/{payment_id}" in paths
    by_handler = {props["Handler"]: props for props in _functions(sam).values()}
    assert "app.app" in by_handler
    schedules = _schedules()
    assert any(s.name == "process_payments" for s in schedules)
    tf_rules = package.terraform["resource"]["aws_cloudwatch_event_rule"]
    for schedule in schedules:
        props = by_handler[schedule.handler_string]
        events = [e["Properties"]["Schedule"] for e in props["Events"].values()]
        assert events == [_expression(schedule)], schedule.name
        assert tf_rules[f"{schedule.name}-event"]["schedule_expression"] == _expression(schedule)


def test_timeouts_fit_the_time_budget(package: Package) -> None:
    functions = {p["Handler"]: p for p in _functions(package.sam).values()}
    api = functions["app.app"]
    batch = functions["app.process_payments"]
    env = batch["Environment"]["Variables"]
    margin_ms = int(env["TIME_BUDGET_MARGIN_MS"])
    assert batch["Timeout"] == 120
    # Claiming stops `margin` before the end; the margin must hold one batch's
    # execute-and-finish, and most of the invocation must remain for claiming.
    assert 15_000 <= margin_ms <= batch["Timeout"] * 1000 / 2
    assert api["Timeout"] < API_GATEWAY_MAX_S < batch["Timeout"]
    # An entry claimed by a live invocation is never taken over by another one.
    for schedule in _schedules():
        timeout = functions[schedule.handler_string]["Timeout"]
        assert float(env["VISIBILITY_TIMEOUT_S"]) > timeout, schedule.name
    tf = {f["handler"]: f for f in package.terraform["resource"]["aws_lambda_function"].values()}
    assert tf["app.process_payments"]["timeout"] == batch["Timeout"]
    assert tf["app.app"]["timeout"] == api["Timeout"]


def test_gateway_responses_follow_the_contract_and_echo_nothing(package: Package) -> None:
    responses = package.sam["Resources"]["RestAPI"]["Properties"]["GatewayResponses"]
    assert responses["MISSING_AUTHENTICATION_TOKEN"]["StatusCode"] == 403
    for name, response in responses.items():
        template = response["ResponseTemplates"]["application/json"]
        assert "$" not in template, f"{name} must not interpolate the request (API keys)"
        error = json.loads(template)["error"]
        assert error["type"] and error["code"] and error["message"], name
    missing = json.loads(
        responses["MISSING_AUTHENTICATION_TOKEN"]["ResponseTemplates"]["application/json"]
    )
    assert missing["error"]["code"] == "resource_missing"


def test_zip_holds_app_chalicelib_and_runtime_wheels_only(package: Package) -> None:
    for zip_path in (package.zip_path, package.out / "terraform" / "deployment.zip"):
        lambda_zip.check_zip(zip_path, "x86_64")
    with zipfile.ZipFile(package.zip_path) as zf:
        names = zf.namelist()
    top = {n.split("/")[0] for n in names}
    assert {"app.py", "chalicelib", "psycopg", "psycopg_binary", "pydantic_core", "redis"} <= top
    # The runtime imports no tooling: the migrations ship inside chalicelib.
    assert not top & {"boto3", "botocore", "s3transfer", "workers", "tests", "bench", "infra"}
    shipped = {n for n in names if n.startswith("chalicelib/migrations/") and n.endswith(".sql")}
    assert shipped == {
        f"chalicelib/migrations/{p.name}"
        for p in (ROOT / "chalicelib" / "migrations").glob("*.sql")
    }
    sources = {n for n in names if n.endswith(".py")}
    compiled = {n for n in names if n.endswith(".cpython-312.pyc")}
    for source in ("app.py", "chalicelib/db.py", "pydantic/main.py"):
        head, _, tail = source.rpartition("/")
        pyc = f"{head + '/' if head else ''}__pycache__/{tail[:-3]}.cpython-312.pyc"
        assert source in sources and pyc in compiled, source
    assert not any(n.startswith(("pytest", "moto", "httpx", "cfnlint")) for n in top)
    assert "aiohttp" in top  # the HTTP acquirer connector's client
    assert package.zip_path.stat().st_size < lambda_zip.MAX_ZIP_BYTES
    assert "Could not install dependencies" not in package.stderr


def test_zip_holds_the_dashboard_files(package: Package) -> None:
    from chalicelib.api.dashboard import STATIC_DIR

    with zipfile.ZipFile(package.zip_path) as zf:
        names = set(zf.namelist())
    expected = {f"chalicelib/dashboard/{p.name}" for p in STATIC_DIR.iterdir() if p.is_file()}
    assert expected and expected <= names


def test_zip_holds_the_checkout_files(package: Package) -> None:
    """The hosted checkout's page, templates and assets (issue 26) ship with the app."""
    from chalicelib.api.checkout import STATIC_DIR

    with zipfile.ZipFile(package.zip_path) as zf:
        names = set(zf.namelist())
    expected = {f"chalicelib/checkout/{p.name}" for p in STATIC_DIR.iterdir() if p.is_file()}
    assert {"chalicelib/checkout/checkout.js", "chalicelib/checkout/page.html"} <= expected
    assert expected <= names


def test_package_fails_when_chalice_drops_a_dependency(package: Package, tmp_path: Path) -> None:
    warning = MISSING_DEPENDENCIES_TEMPLATE % "psycopg-binary==3.3.9"
    assert packaging.dropped_dependencies(warning) == "psycopg-binary==3.3.9"
    assert packaging.dropped_dependencies("Creating deployment package.\n") is None
    # The same zip without psycopg-binary, as Chalice ships it after that warning.
    stripped = tmp_path / "deployment.zip"
    with zipfile.ZipFile(package.zip_path) as src, zipfile.ZipFile(stripped, "w") as dst:
        for item in src.infolist():
            if not item.filename.startswith("psycopg_binary"):
                dst.writestr(item, src.read(item))
    with pytest.raises(lambda_zip.PackagingError, match="psycopg-binary"):
        lambda_zip.check_zip(stripped, "x86_64")


def test_the_zip_limit_is_stated_as_the_code_checks_it() -> None:
    """One constant, stated truthfully: the docstrings and docs/deploy.md name the
    limit the check applies (24 MiB), not another one (package.py said 14 MB)."""
    mib = lambda_zip.MAX_ZIP_BYTES // 2**20
    assert lambda_zip.MAX_ZIP_BYTES == mib * 2**20
    stated = f"{mib} MiB"
    texts = [
        packaging.__doc__ or "",
        lambda_zip.__doc__ or "",
        (ROOT / "docs" / "deploy.md").read_text(),
    ]
    for text in texts:
        assert stated in text
        for other in (14, 16, 24):
            assert f"exceeds {other} MB" not in text


def test_generated_output_is_git_ignored() -> None:
    proc = subprocess.run(
        ["git", "check-ignore", "-q", "build/cloudformation/sam.json"], cwd=ROOT, check=False
    )
    assert proc.returncode == 0
