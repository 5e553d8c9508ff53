"""Property-based tests generated from the OpenAPI document, against the live server.

Every check schemathesis has (`--checks all`) on every operation: no 5xx, every
answer's status, content type and body match the documented schemas, input that
violates the schema is rejected, and input the schema calls valid is accepted. The
only exceptions are the deliberate deviations of docs/api.md, each a named hook in
`schemathesis_hooks.py`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.schemathesis_hooks import EXCEPTIONS

ROOT = Path(__file__).resolve().parents[2]


def delete_endpoints(live_server, api_key: str) -> None:
    """The fuzzer registers endpoints (e.g. `http://0`) that the stage allows: delete them, so
    that the delivery handler run by other tests never sends this merchant's events."""
    with live_server.client(api_key) as api:
        while page := api.get("/api/v1/webhook_endpoints", params={"limit": 100}).json()["data"]:
            for endpoint in page:
                assert api.delete(f"/api/v1/webhook_endpoints/{endpoint['id']}").status_code == 200


def _operator_key() -> str:
    from chalicelib import db
    from chalicelib.services import operator_keys

    with db.unit_of_work() as uow:
        return operator_keys.create_operator_key(uow.conn, "Schemathesis").operator_key


# Merchant routes with a merchant key, operator routes with an operator key: each kind
# of key gets 403 on the other's routes, which is not what the schema fuzzes.
# The hosted checkout's routes (`/pay/`) with a payment link's client secret, on that link.
AUDIENCES = {
    "merchant": ["--exclude-path-regex", "^/api/v1/operator/|^/pay/"],
    "operator": ["--include-path-regex", "^/api/v1/operator/"],
    "checkout": ["--include-path-regex", "^/pay/"],
}


def _payment_link(live_server, api_key: str, config: Path) -> tuple[str, str]:
    """A link's id and client secret; the id is every `link_id` (schemathesis.toml)."""
    with live_server.client(api_key) as api:
        link = api.post("/api/v1/payment_links", json={"amount": 100, "currency": "INR"}).json()
    config.write_text(f'[parameters]\n"path.link_id" = "{link["id"]}"\n')
    return str(link["id"]), str(link["client_secret"])


@pytest.mark.parametrize("audience", sorted(AUDIENCES))
def test_api_conforms_to_its_schema(live_server, merchant, tmp_path: Path, audience: str) -> None:
    link_id = None
    if audience == "checkout":
        link_id, api_key = _payment_link(
            live_server, merchant.api_key, tmp_path / "schemathesis.toml"
        )
    else:
        api_key = merchant.api_key if audience == "merchant" else _operator_key()
    report = tmp_path / "exceptions.jsonl"
    command = [
        str(Path(sys.executable).parent / "schemathesis"),
        "run",
        f"{live_server.base_url}/api/v1/openapi.json",
        "--url",
        live_server.base_url,
        "--checks",
        "all",
        *AUDIENCES[audience],
        "--header",
        f"Authorization: Bearer {api_key}",
        "--max-examples",
        "30",
        "--generation-deterministic",
        "--request-timeout",
        "20",
        "--no-color",
    ]
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "SCHEMATHESIS_HOOKS": "tests.e2e.schemathesis_hooks",
        "GATEWAY_EXCEPTIONS_REPORT": str(report),
    }
    try:
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=400, cwd=tmp_path, env=env
        )
    finally:
        delete_endpoints(live_server, merchant.api_key)
    output = (result.stdout + result.stderr).replace(api_key, "<key>")
    assert result.returncode == 0, output[-8000:]
    operations = {"GET", "POST", "DELETE"}
    tested = [line for line in output.splitlines() if line.split(" ", 1)[0] in operations]
    assert tested or "passed" in output, output[-2000:]
    used = [json.loads(line) for line in report.read_text().splitlines()] if report.exists() else []
    assert {u["exception"] for u in used} <= set(EXCEPTIONS), used
    if link_id is not None:  # the fuzzer reached the link with its secret: it paid it
        with live_server.client(merchant.api_key) as api:
            assert api.get(f"/api/v1/payment_links/{link_id}").json()["payment_count"] >= 1


def test_every_route_is_in_the_document(live_server) -> None:
    """Schemathesis covers what the document lists: so it must list every route."""
    import app

    document = live_server.client().get("/api/v1/openapi.json").json()
    documented = {
        (path, method.upper()) for path, ops in document["paths"].items() for method in ops
    }
    served = {(path, method) for path, methods in app.app.routes.items() for method in methods}
    # The dashboard's page and static files are not API operations (docs/api.md lists them).
    static = {(p, m) for p, m in served if p == "/dashboard" or p.startswith("/dashboard/")}
    static |= {("/pay/{link_id}", "GET"), ("/checkout/{name}", "GET")}  # the checkout page
    assert served - static == documented


def test_full_refund_with_nothing_left_is_not_a_rejection(
    live_server, merchant, run_processor
) -> None:
    """Issue 24: on a stack where refunds had been made, schemathesis found `{}` (a full
    refund, schema-valid) of a payment with nothing left answered 400 amount_too_large,
    "valid data rejected". It is 409 `payment_already_refunded` (docs/api.md, Refunds):
    the payment's state refuses it, and schemathesis' `positive_data_acceptance` takes
    a 409 as an answer to valid data. Here schemathesis sends a case it generated for
    the operation, pointed at that very payment, and validates the answer against the
    document (status documented, body matches); the 409 is asserted, as a manual case
    carries no generation mode for `positive_data_acceptance` to judge."""
    import uuid

    import schemathesis
    from hypothesis import HealthCheck, given
    from hypothesis import settings as hypothesis_settings

    headers = {"Authorization": f"Bearer {merchant.api_key}"}
    with live_server.client(merchant.api_key) as api:
        created = api.post(
            "/api/v1/payments",
            json={
                "order_id": f"o_{uuid.uuid4().hex[:12]}",
                "amount": 700,
                "currency": "INR",
                "method": "upi",
            },
        ).json()
        run_processor()
        assert api.get(f"/api/v1/payments/{created['id']}").json()["status"] == "SUCCESS"
        assert api.post(f"/api/v1/payments/{created['id']}/refunds").status_code == 202

    schema = schemathesis.openapi.from_url(f"{live_server.base_url}/api/v1/openapi.json")
    operation = schema["/api/v1/payments/{payment_id}/refunds"]["POST"]
    generated: list = []

    @given(operation.as_strategy())
    @hypothesis_settings(max_examples=1, database=None, suppress_health_check=list(HealthCheck))
    def one_positive_case(case) -> None:
        generated.append(case)

    one_positive_case()
    case = generated[0]
    case.path_parameters = {"payment_id": created["id"]}
    case.body = {}
    case.headers = {}
    response = case.call_and_validate(base_url=live_server.base_url, headers=headers)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "payment_already_refunded"
