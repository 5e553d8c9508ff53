"""The acquirer stand-in's idempotency layer (issue 22), as a process over plain HTTP.

Its guarantees, which docs/acquirer.md states and the gateway relies on:
  - a key is recorded when its request arrives, before anything is done: an inquiry
    for it answers `in_progress` while the request runs, never 404;
  - a replay while the first request still runs answers 409 `request_in_progress`;
  - a void by key makes the key `voided` (nothing charged, and a late or replayed
    request under it never charges) or, if it had charged, `reversed`; the answer says
    which, and a reversed charge leaves the settlement;
  - a 404 `not_found` is final only after a void.
"""

from __future__ import annotations

import csv
import io
import threading
import uuid
from datetime import UTC, datetime

import httpx

from tests.integration.acquirer_process import AcquirerProcess
from tests.support import wait_until


def _key() -> str:
    return f"pay_{uuid.uuid4().hex}"


def _charge(client: httpx.Client, key: str, vpa: str = "success@upi") -> httpx.Response:
    body = {"payment_id": key, "amount": 1000, "currency": "INR", "method": "upi", "vpa": vpa}
    return client.post("/v1/authorizations", json=body, headers={"Idempotency-Key": key})


def _slow_charge_in_background(acquirer: AcquirerProcess, key: str) -> threading.Thread:
    """`slow@upi`: the acquirer holds the request 3 s, then charges it."""

    def call() -> None:
        with httpx.Client(base_url=acquirer.url, timeout=30) as other:
            try:
                _charge(other, key, vpa="slow@upi")
            except httpx.HTTPError:
                pass  # the process was restarted under it (a test does that on purpose)

    thread = threading.Thread(target=call)
    thread.start()
    return thread


def _wait_recorded(client: httpx.Client, key: str) -> httpx.Response:
    """The inquiry's answer once the key is recorded (no longer 404)."""

    def found() -> httpx.Response | None:
        answer = client.get(f"/v1/authorizations/{key}")
        return answer if answer.status_code != 404 else None

    return wait_until(found, timeout=5, step=0.02)


def _void(client: httpx.Client, key: str) -> httpx.Response:
    return client.post(f"/v1/authorizations/{key}/void", json={"payment_id": key})


def _settled_keys(client: httpx.Client) -> set[str]:
    day = datetime.now(UTC).date().isoformat()
    text = client.get(f"/v1/settlements/{day}.csv").text
    return {row["idempotency_key"] for row in csv.DictReader(io.StringIO(text))}


def test_a_request_still_running_is_in_progress_to_an_inquiry_and_a_replay(
    acquirer: AcquirerProcess, client: httpx.Client
) -> None:
    key = _key()
    running = _slow_charge_in_background(acquirer, key)
    found = _wait_recorded(client, key)
    assert found.status_code == 200 and found.json()["status"] == "in_progress"
    replay = _charge(client, key, vpa="slow@upi")
    assert replay.status_code == 409
    assert replay.json()["error"]["code"] == "request_in_progress"
    other_body = _charge(client, key, vpa="success@upi")
    assert other_body.status_code == 422  # the key holds another request
    running.join()
    assert client.get(f"/v1/authorizations/{key}").json()["status"] == "succeeded"
    assert _charge(client, key, vpa="slow@upi").headers["Idempotent-Replayed"] == "true"


def test_a_void_before_the_request_makes_the_key_never_charge(client: httpx.Client) -> None:
    key = _key()
    assert client.get(f"/v1/authorizations/{key}").status_code == 404
    voided = _void(client, key)
    assert voided.status_code == 200 and voided.json()["result"] == "voided"
    late = _charge(client, key)  # the request arrives after the void: it never charges
    assert late.status_code == 200 and late.json()["status"] == "voided"
    assert client.get(f"/v1/authorizations/{key}").json()["status"] == "voided"
    assert _void(client, key).json()["result"] == "voided"  # a void is idempotent
    assert key not in _settled_keys(client)


def test_a_void_while_the_request_runs_stops_its_charge(
    acquirer: AcquirerProcess, client: httpx.Client
) -> None:
    key = _key()
    running = _slow_charge_in_background(acquirer, key)
    _wait_recorded(client, key)
    assert _void(client, key).json()["result"] == "voided"
    running.join()
    assert [c["status"] for c in acquirer.charges_for(key)] == ["voided"]
    assert key not in _settled_keys(client)


def test_a_void_after_the_charge_reverses_it(
    acquirer: AcquirerProcess, client: httpx.Client
) -> None:
    key = _key()
    assert _charge(client, key).json()["status"] == "succeeded"
    assert key in _settled_keys(client)
    reversed_ = _void(client, key)
    assert reversed_.json()["result"] == "reversed"
    assert reversed_.json()["charge"]["status"] == "reversed"
    assert _void(client, key).json()["result"] == "reversed"
    assert key not in _settled_keys(client)
    assert _charge(client, key).json()["status"] == "reversed"  # a replay charges nothing
    # A reversed charge takes no refund.
    refund_key = f"rf_{uuid.uuid4().hex}"
    refund = client.post(
        "/v1/refunds",
        json={"charge_key": key, "refund_id": refund_key, "amount": 10, "currency": "INR"},
        headers={"Idempotency-Key": refund_key},
    )
    assert refund.json()["status"] == "declined"


def test_a_void_of_a_declined_or_refunded_charge(client: httpx.Client) -> None:
    declined = _key()
    assert _charge(client, declined, vpa="failure@upi").json()["status"] == "declined"
    assert _void(client, declined).json()["result"] == "declined"

    refunded = _key()
    assert _charge(client, refunded).json()["status"] == "succeeded"
    refund_key = f"rf_{uuid.uuid4().hex}"
    client.post(
        "/v1/refunds",
        json={"charge_key": refunded, "refund_id": refund_key, "amount": 10, "currency": "INR"},
        headers={"Idempotency-Key": refund_key},
    )
    refused = _void(client, refunded)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "charge_has_refunds"


def test_a_refund_void_by_key(client: httpx.Client) -> None:
    charge = _key()
    assert _charge(client, charge).json()["status"] == "succeeded"
    key = f"rf_{uuid.uuid4().hex}"
    voided = client.post(f"/v1/refunds/{key}/void", json={})
    assert voided.json()["result"] == "voided"
    late = client.post(
        "/v1/refunds",
        json={"charge_key": charge, "refund_id": key, "amount": 10, "currency": "INR"},
        headers={"Idempotency-Key": key},
    )
    assert late.json()["status"] == "voided"
    done = f"rf_{uuid.uuid4().hex}"
    client.post(
        "/v1/refunds",
        json={"charge_key": charge, "refund_id": done, "amount": 10, "currency": "INR"},
        headers={"Idempotency-Key": done},
    )
    assert client.post(f"/v1/refunds/{done}/void", json={}).json()["result"] == "succeeded"
    books = client.get("/admin/books", params={"payment_id": charge}).json()
    assert books["charges"][0]["amount_refunded"] == 10
    # Only the refund that was made stands (the void came before the other's request).
    assert [(r["refund_id"], r["status"]) for r in books["refunds"]] == [(done, "succeeded")]


def test_keys_of_requests_cut_short_by_a_restart_are_given_back(
    acquirer: AcquirerProcess, client: httpx.Client
) -> None:
    key = _key()
    running = _slow_charge_in_background(acquirer, key)
    _wait_recorded(client, key)
    acquirer.restart()  # the slow request dies with the process, before acting
    running.join()
    assert client.get(f"/v1/authorizations/{key}").status_code == 404
    assert _charge(client, key).json()["status"] == "succeeded"
