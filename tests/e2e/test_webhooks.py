"""Webhooks end to end: endpoints API, signed delivery to a real receiver, retries,
timeouts, the event log, redelivery, the SSRF guard, tenant isolation."""

from __future__ import annotations

import base64
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from pydantic import BaseModel

from chalicelib import db, settings
from chalicelib.adapters.url_guard import REFUSED_MESSAGE
from chalicelib.handlers import deliver_webhooks as webhook_delivery
from chalicelib.services import events as event_service
from tests.e2e.webhook_receiver import Behaviour, Receiver
from tests.support import FakeContext, LiveServer, start_server, stop_server, wait_until

ALL_TYPES = [
    "payment.authorized",
    "payment.captured",
    "payment.succeeded",
    "payment.failed",
    "payment.cancelled",
    "payment.charge_reversed",
    "refund.succeeded",
    "refund.failed",
]


class FakeObject(BaseModel):
    id: str
    object: str = "payment"
    amount: int = 100


# ------------------------------------------------------------------------ helpers
@pytest.fixture
def receivers() -> Iterator[Callable[..., Receiver]]:
    made: list[Receiver] = []

    def make(behaviour: Behaviour = lambda n: 200) -> Receiver:
        receiver = Receiver(behaviour).start()
        made.append(receiver)
        return receiver

    yield make
    for receiver in made:
        receiver.stop()


@pytest.fixture
def webhook_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., None]]:
    """Set webhook settings through the environment for this test only."""

    def apply(**env: Any) -> None:
        for name, value in env.items():
            monkeypatch.setenv(name.upper(), str(value))
        settings.reset_settings()

    yield apply
    monkeypatch.undo()
    settings.reset_settings()


@pytest.fixture
def endpoints_to_delete(api: httpx.Client) -> Iterator[list[str]]:
    """Endpoints deleted after the test, so their leftover retries stop."""
    ids: list[str] = []
    yield ids
    for endpoint_id in ids:
        api.delete(f"/api/v1/webhook_endpoints/{endpoint_id}")


def register(
    api: httpx.Client, receiver: Receiver, cleanup: list[str], events: list[str] | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"url": receiver.url}
    if events is not None:
        body["events"] = events
    response = api.post("/api/v1/webhook_endpoints", json=body)
    assert response.status_code == 201, response.text
    created = response.json()
    receiver.secret = created["secret"]
    cleanup.append(created["id"])
    return created


def record_events(merchant_id: str, count: int, event_type: str = "payment.succeeded") -> None:
    items = [(merchant_id, event_type, FakeObject(id=f"pay_test{i:06d}")) for i in range(count)]
    with db.transaction() as conn:
        event_service.record_payment_events(conn, items)


def latest_event_ids(api: httpx.Client, count: int = 1, event_type: str | None = None) -> list[str]:
    params: dict[str, Any] = {"limit": count}
    if event_type:
        params["type"] = event_type
    return [e["id"] for e in api.get("/api/v1/events", params=params).json()["data"]]


def deliver(seconds: float = 30) -> dict[str, Any]:
    return webhook_delivery.deliver_webhooks(FakeContext(seconds))


def pump(predicate: Callable[[], Any], timeout: float = 30, step: float = 0.05) -> Any:
    """Run the handler as the local scheduler would (but more often) until predicate holds."""

    def delivered_then_checked() -> Any:
        deliver()
        return predicate()

    return wait_until(delivered_then_checked, timeout, step)


def deliveries(api: httpx.Client, event_id: str) -> list[dict[str, Any]]:
    response = api.get(f"/api/v1/events/{event_id}")
    assert response.status_code == 200, response.text
    return response.json()["deliveries"]


def let_the_schedule_pass(
    api: httpx.Client, merchant_id: str, event_type: str, rounds: int = 1
) -> None:
    """The event that proves a retry would have been due by now: a marker event of
    `event_type`, recorded now and pumped through every attempt of the retry schedule (its
    endpoints answer non-2xx), spans at least the schedule's sum; `rounds` markers in turn.
    A retry due in that time was sent by one of the runs that delivered the marker."""
    for _ in range(rounds):
        record_events(merchant_id, 1, event_type)
        (marker,) = latest_event_ids(api, event_type=event_type)
        pump(
            lambda m=marker: (
                (got := deliveries(api, m)) and all(d["status"] != "pending" for d in got)
            )
        )


# -------------------------------------------------------------------- endpoints API
def test_retrieve_endpoint(
    api: httpx.Client,
    live_server: LiveServer,
    other_merchant: Any,
    receivers: Callable[..., Receiver],
    endpoints_to_delete: list[str],
) -> None:
    created = register(api, receivers(), endpoints_to_delete, events=["payment.failed"])
    got = api.get(f"/api/v1/webhook_endpoints/{created['id']}")
    assert got.status_code == 200, got.text
    expected = {k: v for k, v in created.items() if k not in ("secret", "secret_withheld")}
    assert got.json() == expected  # never the secret
    with live_server.client(other_merchant.api_key) as other:
        missing = other.get(f"/api/v1/webhook_endpoints/{created['id']}")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "resource_missing"
    assert api.get("/api/v1/webhook_endpoints/we_nosuchendpoint").status_code == 404
    assert api.get("/api/v1/webhook_endpoints/pay_wrongprefix").status_code == 404
    assert api.delete(f"/api/v1/webhook_endpoints/{created['id']}").status_code == 200
    assert api.get(f"/api/v1/webhook_endpoints/{created['id']}").status_code == 404


def test_create_list_delete_endpoint(api: httpx.Client, receivers: Callable[..., Receiver]) -> None:
    receiver = receivers()
    created = api.post("/api/v1/webhook_endpoints", json={"url": receiver.url})
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["id"].startswith("we_")
    assert body["object"] == "webhook_endpoint"
    assert body["events"] == ALL_TYPES
    assert body["status"] == "enabled"
    assert body["url"] == receiver.url
    assert body["created_at"].endswith("Z")
    assert body["secret"].startswith("whsec_")
    assert len(base64.b64decode(body["secret"][6:], validate=True)) >= 24

    only = api.post(
        "/api/v1/webhook_endpoints",
        json={"url": receiver.url, "events": ["payment.failed", "payment.failed"]},
    ).json()
    assert only["events"] == ["payment.failed"]

    listed = api.get("/api/v1/webhook_endpoints").json()
    assert listed["object"] == "list"
    assert [e["id"] for e in listed["data"]] == [only["id"], body["id"]]
    assert all("secret" not in e for e in listed["data"])
    page = api.get("/api/v1/webhook_endpoints", params={"limit": 1}).json()
    assert page["has_more"] is True and [e["id"] for e in page["data"]] == [only["id"]]
    rest = api.get(
        "/api/v1/webhook_endpoints", params={"limit": 1, "starting_after": only["id"]}
    ).json()
    assert rest["has_more"] is False and [e["id"] for e in rest["data"]] == [body["id"]]

    deleted = api.delete(f"/api/v1/webhook_endpoints/{body['id']}")
    assert deleted.status_code == 200, deleted.text
    assert deleted.json()["deleted"] is True
    assert deleted.json()["status"] == "disabled"
    assert "secret" not in deleted.json()
    assert api.delete(f"/api/v1/webhook_endpoints/{body['id']}").status_code == 404
    ids_left = [e["id"] for e in api.get("/api/v1/webhook_endpoints").json()["data"]]
    assert ids_left == [only["id"]]
    api.delete(f"/api/v1/webhook_endpoints/{only['id']}")


@pytest.mark.parametrize(
    ("body", "code", "param"),
    [
        ({"url": "http://127.0.0.1/x", "events": ["payment.nope"]}, "parameter_invalid", "events"),
        ({"url": "http://127.0.0.1/x", "events": []}, "parameter_invalid", "events"),
        ({"url": "http://127.0.0.1/x", "events": "payment.failed"}, "parameter_invalid", "events"),
        ({"url": "http://127.0.0.1/x", "events": [1]}, "parameter_invalid", "events"),
        ({"url": "ftp://127.0.0.1/x"}, "parameter_invalid", "url"),
        ({"url": "javascript:alert(1)"}, "parameter_invalid", "url"),
        ({"url": "not a url"}, "parameter_invalid", "url"),
        ({"url": "http://user:pw@127.0.0.1/x"}, "parameter_invalid", "url"),
        ({"url": "http:///nohost"}, "parameter_invalid", "url"),
        ({"url": "http://127.0.0.1:99999/x"}, "parameter_invalid", "url"),
        ({"url": "http://no-such-host.invalid/x"}, "parameter_invalid", "url"),
        ({"url": 5}, "parameter_invalid", "url"),
        ({"url": "http://127.0.0.1/" + "a" * 2100}, "parameter_invalid", "url"),
        ({}, "parameter_missing", "url"),
        ({"url": "http://127.0.0.1/x", "secret": "mine"}, "parameter_unknown", "secret"),
    ],
)
def test_create_endpoint_bad_input(api: httpx.Client, body: dict, code: str, param: str) -> None:
    response = api.post("/api/v1/webhook_endpoints", json=body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert (error["type"], error["code"], error["param"]) == ("invalid_request_error", code, param)


def test_other_merchants_objects_are_404(
    live_server: LiveServer,
    api: httpx.Client,
    other_merchant: Any,
    receivers: Callable[..., Receiver],
    endpoints_to_delete: list[str],
    merchant: Any,
) -> None:
    endpoint = register(api, receivers(), endpoints_to_delete)
    record_events(merchant.merchant_id, 1)
    (event_id,) = latest_event_ids(api)
    with live_server.client(other_merchant.api_key) as other:
        for response in (
            other.get(f"/api/v1/events/{event_id}"),
            other.post(f"/api/v1/events/{event_id}/redeliver"),
            other.delete(f"/api/v1/webhook_endpoints/{endpoint['id']}"),
            other.get("/api/v1/events/evt_doesnotexist000000000"),
        ):
            assert response.status_code == 404, response.text
            assert response.json()["error"]["code"] == "resource_missing"
        assert other.get("/api/v1/events").json()["data"] == []
        assert other.get("/api/v1/webhook_endpoints").json()["data"] == []
    assert api.get(f"/api/v1/events/{event_id}").status_code == 200


# ---------------------------------------------------------------------- event log
def test_events_list_filter_and_pagination(api: httpx.Client, merchant: Any) -> None:
    record_events(merchant.merchant_id, 3, "payment.succeeded")
    record_events(merchant.merchant_id, 2, "payment.failed")
    everything = api.get("/api/v1/events").json()
    assert len(everything["data"]) == 5 and everything["has_more"] is False
    failed = api.get("/api/v1/events", params={"type": "payment.failed"}).json()["data"]
    assert [e["type"] for e in failed] == ["payment.failed"] * 2
    first = api.get("/api/v1/events", params={"limit": 2}).json()
    assert first["has_more"] is True
    second = api.get(
        "/api/v1/events", params={"limit": 3, "starting_after": first["data"][-1]["id"]}
    ).json()
    seen = [e["id"] for e in first["data"] + second["data"]]
    assert seen == [e["id"] for e in everything["data"]]
    event = everything["data"][0]
    assert event["object"] == "event" and event["id"].startswith("evt_")
    assert event["data"]["object"] == "payment"
    bad = api.get("/api/v1/events", params={"type": "payment.nope"})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "type"


def test_cancel_records_an_event_and_it_is_delivered_signed(
    api: httpx.Client, receivers: Callable[..., Receiver], endpoints_to_delete: list[str]
) -> None:
    receiver = receivers()
    endpoint = register(api, receiver, endpoints_to_delete, events=["payment.cancelled"])
    payment = api.post(
        "/api/v1/payments",
        json={"order_id": f"o{time.time_ns()}", "amount": 500, "currency": "inr", "method": "upi"},
    ).json()
    assert api.post(f"/api/v1/payments/{payment['id']}/cancel").status_code == 200
    (event_id,) = latest_event_ids(api, event_type="payment.cancelled")
    pump(lambda: receiver.count() >= 1)
    got = receiver.snapshot()[0]
    assert got.verified, got.error
    assert got.webhook_id == event_id
    assert got.body["id"] == event_id and got.body["type"] == "payment.cancelled"
    assert got.body["data"]["id"] == payment["id"] and got.body["data"]["status"] == "CANCELLED"
    assert got.body["timestamp"].endswith("Z")
    # The event carries the payment object as the API renders it, keys in the same order
    # (events.data is json, not jsonb, which would reorder them).
    cancelled = api.get(f"/api/v1/payments/{payment['id']}").json()
    assert list(got.body["data"].items()) == list(cancelled.items())
    stored = api.get(f"/api/v1/events/{event_id}").json()["data"]
    assert list(stored.items()) == list(cancelled.items())
    entries = deliveries(api, event_id)
    assert [
        (d["endpoint_id"], d["attempt"], d["status"], d["response_status"]) for d in entries
    ] == [(endpoint["id"], 1, "succeeded", 200)]


# ----------------------------------------------------------------- retries, failure
def test_retries_follow_the_schedule_with_the_same_id(
    api: httpx.Client,
    merchant: Any,
    receivers: Callable[..., Receiver],
    endpoints_to_delete: list[str],
) -> None:
    # The test stage's schedule: [1, 2, 4, 8, 16] s. Fail twice, then succeed.
    receiver = receivers(lambda n: 500 if n <= 2 else 200)
    register(api, receiver, endpoints_to_delete)
    record_events(merchant.merchant_id, 1)
    (event_id,) = latest_event_ids(api)
    pump(lambda: receiver.count() >= 3, timeout=20, step=0.02)
    deliver()
    got = receiver.snapshot()
    assert len(got) == 3
    assert all(r.verified for r in got), [r.error for r in got]
    assert {r.webhook_id for r in got} == {event_id}
    gap1, gap2 = got[1].at - got[0].at, got[2].at - got[1].at
    assert 1.0 <= gap1 <= 1.2 + 0.4, gap1
    assert 2.0 <= gap2 <= 2.4 + 0.4, gap2
    entries = deliveries(api, event_id)
    assert [(d["attempt"], d["status"], d["response_status"]) for d in entries] == [
        (1, "failed", 500),
        (2, "failed", 500),
        (3, "succeeded", 200),
    ]
    assert entries[0]["error"] == "HTTP 500" and entries[0]["duration_ms"] >= 0


def test_never_2xx_is_failed_after_the_last_attempt(
    api: httpx.Client,
    merchant: Any,
    receivers: Callable[..., Receiver],
    endpoints_to_delete: list[str],
    webhook_env: Callable[..., None],
) -> None:
    webhook_env(webhook_retry_schedule_s="[0.2, 0.4, 0.8]")
    receiver = receivers(lambda n: 503)
    register(api, receiver, endpoints_to_delete)
    record_events(merchant.merchant_id, 1)
    (event_id,) = latest_event_ids(api)

    def settled() -> bool:
        entries = deliveries(api, event_id)
        return bool(entries) and entries[-1]["status"] != "pending"

    pump(settled, timeout=15)
    # The subject: once the schedule's last gap (0.8 s, 0.96 with jitter) has passed, no
    # run sends it again. A marker's whole schedule (1.4 s or more) proves it has passed.
    let_the_schedule_pass(api, merchant.merchant_id, "payment.failed")
    sent = [r.webhook_id for r in receiver.snapshot()]
    assert sent.count(event_id) == 4  # the first try and three retries, nothing after
    entries = deliveries(api, event_id)
    assert [(d["attempt"], d["status"], d["response_status"]) for d in entries] == [
        (n, "failed", 503) for n in (1, 2, 3, 4)
    ]


def test_a_hanging_receiver_times_out_within_the_budget(
    api: httpx.Client,
    merchant: Any,
    receivers: Callable[..., Receiver],
    endpoints_to_delete: list[str],
    webhook_env: Callable[..., None],
) -> None:
    webhook_env(webhook_timeout_s="1", webhook_concurrency="2")
    receiver = receivers(lambda n: "hang")
    register(api, receiver, endpoints_to_delete)
    record_events(merchant.merchant_id, 5)
    event_ids = latest_event_ids(api, 5)
    # 4.5 s budget, 2 s kept free: room for two waves of two 1 s sends, then it stops
    # (a third wave would send the fifth event). It returns before its deadline: the one
    # duration kept here, as it is the subject (Lambda would kill it there).
    context = FakeContext(4.5)
    summary = webhook_delivery.deliver_webhooks(context)
    assert context.get_remaining_time_in_millis() > 0
    assert 1 <= summary["sent"] <= 4 and summary["retried"] == summary["sent"]
    attempted = [d for e in event_ids for d in deliveries(api, e) if d["status"] != "pending"]
    assert attempted, "no attempt recorded"
    for entry in attempted:
        assert entry["status"] == "failed" and entry["response_status"] is None
        assert entry["error"] == "timed out after 1s"
        assert 900 <= entry["duration_ms"] <= 1500
    # each timed-out delivery has its retry scheduled
    pending = [d for e in event_ids for d in deliveries(api, e) if d["status"] == "pending"]
    assert sum(1 for d in pending if d["attempt"] == 2) == len(attempted)


def test_thousand_events_to_three_endpoints_each_delivered_once(
    api: httpx.Client,
    merchant: Any,
    receivers: Callable[..., Receiver],
    endpoints_to_delete: list[str],
) -> None:
    hooks = [receivers() for _ in range(3)]
    for receiver in hooks:
        register(api, receiver, endpoints_to_delete)
    record_events(merchant.merchant_id, 1000)
    started = time.monotonic()
    # Two handlers at once, as overlapping scheduled invocations would be.
    summaries: list[dict[str, Any]] = []

    def run() -> None:
        while sum(r.count() for r in hooks) < 3000 and time.monotonic() - started < 120:
            summaries.append(deliver(60))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    deliver()
    for receiver in hooks:
        got = receiver.snapshot()
        counts = Counter(r.webhook_id for r in got)
        assert len(counts) == 1000, len(counts)
        assert set(counts.values()) == {1}, "an event was delivered twice to one endpoint"
        assert all(r.verified for r in got)
    print(f"\n3000 deliveries in {elapsed:.2f}s = {3000 / elapsed:.0f}/s")


# ----------------------------------------------------------------------- redeliver
def test_redeliver_only_what_failed_for_good(
    api: httpx.Client,
    merchant: Any,
    receivers: Callable[..., Receiver],
    endpoints_to_delete: list[str],
    webhook_env: Callable[..., None],
) -> None:
    webhook_env(webhook_retry_schedule_s="[0.2]")  # two attempts, then failed
    # The markers' endpoint (let_the_schedule_pass): refund.failed only, always failing.
    register(api, receivers(lambda n: 500), endpoints_to_delete, events=["refund.failed"])
    ok = receivers(lambda n: 200)
    failing_state = {"fail": True}
    failing = receivers(lambda n: 500 if failing_state["fail"] else 204)
    ok_endpoint = register(api, ok, endpoints_to_delete, events=["payment.succeeded"])
    bad_endpoint = register(api, failing, endpoints_to_delete, events=["payment.succeeded"])
    record_events(merchant.merchant_id, 1)
    (event_id,) = latest_event_ids(api)
    pump(lambda: all(d["status"] != "pending" for d in deliveries(api, event_id)), timeout=15)
    assert ok.count() == 1 and failing.count() == 2

    response = api.post(f"/api/v1/events/{event_id}/redeliver")
    assert response.status_code == 202, response.text
    assert response.json() == {"redelivered": 1}
    pump(lambda: failing.count() >= 3)
    # The subject: once the schedule's gap (0.2 s, 0.24 with jitter) has passed, no run
    # sends a retry. Two markers' schedules in turn (0.4 s or more) prove it has passed.
    let_the_schedule_pass(api, merchant.merchant_id, "refund.failed", rounds=2)
    assert failing.count() == 3, "a redelivery is one attempt, not a new schedule"
    assert ok.count() == 1, "a succeeded delivery is not sent again"

    failing_state["fail"] = False
    assert api.post(f"/api/v1/events/{event_id}/redeliver").json() == {"redelivered": 1}
    pump(lambda: failing.count() >= 4)
    assert {r.webhook_id for r in failing.snapshot()} == {event_id}
    assert all(r.verified for r in failing.snapshot())
    assert api.post(f"/api/v1/events/{event_id}/redeliver").json() == {"redelivered": 0}
    by_endpoint = Counter(d["endpoint_id"] for d in deliveries(api, event_id))
    assert by_endpoint == {ok_endpoint["id"]: 1, bad_endpoint["id"]: 4}
    last = deliveries(api, event_id)[-1]
    assert (last["attempt"], last["status"], last["response_status"]) == (4, "succeeded", 204)

    # A delivery still being retried keeps its schedule.
    webhook_env(webhook_retry_schedule_s="[300]")
    failing_state["fail"] = True
    record_events(merchant.merchant_id, 1, "payment.succeeded")
    (retrying_id,) = latest_event_ids(api)
    pump(lambda: failing.count() >= 5)
    before = deliveries(api, retrying_id)
    assert api.post(f"/api/v1/events/{retrying_id}/redeliver").json() == {"redelivered": 0}
    assert deliveries(api, retrying_id) == before
    pending = [d for d in before if d["status"] == "pending"]
    assert len(pending) == 1 and pending[0]["attempt"] == 2


def test_deleted_endpoint_gets_no_new_deliveries(
    api: httpx.Client, merchant: Any, receivers: Callable[..., Receiver]
) -> None:
    receiver = receivers()
    endpoint = register(api, receiver, [])
    assert api.delete(f"/api/v1/webhook_endpoints/{endpoint['id']}").status_code == 200
    record_events(merchant.merchant_id, 2)
    for _ in range(3):
        deliver()
    assert receiver.count() == 0
    for event_id in latest_event_ids(api, 2):
        assert deliveries(api, event_id) == []


# ---------------------------------------------------------------------- SSRF guard
REFUSED_URLS = {
    "loopback-v4": "http://127.0.0.1:8080/hook",
    "loopback-v6": "http://[::1]/hook",
    "loopback-name": "http://localhost/hook",
    "private-10": "http://10.1.2.3/hook",
    "private-172": "https://172.16.5.4/hook",
    "private-192": "http://192.168.0.10/hook",
    "private-v6-ula": "http://[fd12:3456::1]/hook",
    "link-local-v4": "http://169.254.10.20/hook",
    "link-local-v6": "http://[fe80::1]/hook",
    "metadata-v4": "http://169.254.169.254/latest/meta-data/",
    "metadata-v6": "http://[fd00:ec2::254]/latest/meta-data/",
    "multicast-v4": "http://224.0.0.1/hook",
    "multicast-v6": "http://[ff02::1]/hook",
    "unspecified-v4": "http://0.0.0.0/hook",
    "unspecified-v6": "http://[::]/hook",
    "reserved": "http://240.0.0.1/hook",
    "shared-cgnat": "http://100.64.0.1/hook",
    "v4-mapped-loopback": "http://[::ffff:127.0.0.1]/hook",
    "decimal-loopback": "http://2130706433/hook",
    # IPv6 transition addresses are judged by the IPv4 address they embed.
    "6to4-loopback": "http://[2002:7f00:1::1]/hook",
    "6to4-private-10": "http://[2002:a01:203::1]/hook",
    "6to4-metadata": "http://[2002:a9fe:a9fe::1]/hook",
    # Teredo: server 93.184.215.14, client 192.168.1.1 (stored inverted: 3f57:fefe)
    "teredo-private-client": "http://[2001:0:5db8:d70e:0:ffff:3f57:fefe]/hook",
    "nat64-loopback": "http://[64:ff9b::7f00:1]/hook",
    "nat64-metadata": "http://[64:ff9b::a9fe:a9fe]/hook",
    "nat64-local-use": "http://[64:ff9b:1::a00:1]/hook",
}
# Refused for other reasons than the address; registration says the same for all.
OTHER_REFUSED_URLS = [
    "ftp://93.184.215.14/hook",
    "http://user:secret@93.184.215.14/hook",
    "https://93.184.215.14/hook#frag",
    "http://no-such-host.invalid/hook",
    "http://billing.internal/hook",
]


@pytest.fixture(scope="module")
def strict_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The API with private hosts disallowed, as in prod."""
    server = start_server(
        tmp_path_factory.mktemp("strict"), {"WEBHOOK_ALLOW_PRIVATE_HOSTS": "false"}
    )
    yield server
    stop_server(server)


@pytest.mark.parametrize("name", sorted(REFUSED_URLS))
def test_registration_refuses_non_public_hosts(
    strict_server: LiveServer, merchant: Any, name: str
) -> None:
    with strict_server.client(merchant.api_key) as client:
        response = client.post("/api/v1/webhook_endpoints", json={"url": REFUSED_URLS[name]})
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert (error["code"], error["param"]) == ("parameter_invalid", "url")


def test_every_refused_url_gets_one_message(strict_server: LiveServer, merchant: Any) -> None:
    """Registration must not tell which internal names resolve, or to what."""
    messages = set()
    with strict_server.client(merchant.api_key) as client:
        for url in [*REFUSED_URLS.values(), *OTHER_REFUSED_URLS]:
            response = client.post("/api/v1/webhook_endpoints", json={"url": url})
            assert response.status_code == 400, (url, response.text)
            error = response.json()["error"]
            assert (error["code"], error["param"]) == ("parameter_invalid", "url")
            messages.add(error["message"])
    assert messages == {REFUSED_MESSAGE}


@pytest.mark.parametrize(
    "url",
    [
        "https://93.184.215.14/hook",
        "https://[2002:5db8:d70e::1]/hook",  # 6to4 of a public address
        "https://[64:ff9b::5db8:d70e]/hook",  # NAT64 of a public address
    ],
)
def test_registration_accepts_a_public_address(
    strict_server: LiveServer, merchant: Any, url: str
) -> None:
    with strict_server.client(merchant.api_key) as client:
        response = client.post("/api/v1/webhook_endpoints", json={"url": url})
        assert response.status_code == 201, response.text
        client.delete(f"/api/v1/webhook_endpoints/{response.json()['id']}")


def test_delivery_rechecks_the_host(
    api: httpx.Client,
    merchant: Any,
    receivers: Callable[..., Receiver],
    endpoints_to_delete: list[str],
    webhook_env: Callable[..., None],
) -> None:
    # Registered while private hosts were allowed; delivery happens when they no longer are
    # (the same check a name that starts resolving to a private address meets).
    receiver = receivers()
    register(api, receiver, endpoints_to_delete)
    webhook_env(webhook_allow_private_hosts="false")
    record_events(merchant.merchant_id, 1)
    (event_id,) = latest_event_ids(api)
    pump(lambda: any(d["status"] == "failed" for d in deliveries(api, event_id)), timeout=10)
    assert receiver.count() == 0
    first = deliveries(api, event_id)[0]
    assert first["response_status"] is None
    assert first["error"] == f"refused: {REFUSED_MESSAGE}"


def test_a_crashed_handlers_lease_ends_and_the_delivery_is_sent(
    api: httpx.Client,
    merchant: Any,
    receivers: Callable[..., Receiver],
    endpoints_to_delete: list[str],
) -> None:
    from datetime import timedelta

    from chalicelib.clock import utcnow
    from chalicelib.repository import webhooks as webhook_repo

    receiver = receivers()
    endpoint = register(api, receiver, endpoints_to_delete)
    record_events(merchant.merchant_id, 1)
    (event_id,) = latest_event_ids(api)
    # A handler claims (leases for 1 s) and dies before sending or recording anything.
    now = utcnow()
    with db.transaction() as conn:
        claimed = webhook_repo.claim_due_deliveries(
            conn, now, now + timedelta(seconds=1), 10_000, max_attempts=10
        )
    assert any(row["event_id"] == event_id for row in claimed)
    deliver()
    assert receiver.count() == 0, "a leased delivery is not sent by another handler"
    pump(lambda: receiver.count() >= 1, timeout=10)
    assert [r.webhook_id for r in receiver.snapshot()] == [event_id]
    entries = deliveries(api, event_id)
    assert [(d["endpoint_id"], d["attempt"], d["status"]) for d in entries] == [
        (endpoint["id"], 2, "succeeded")  # attempt 1 died with its handler
    ]


def test_rotate_secret_shows_the_new_secret_once_and_both_sign_for_a_day(
    api: httpx.Client,
    merchant: Any,
    receivers: Callable[..., Receiver],
    endpoints_to_delete: list[str],
) -> None:
    receiver = receivers()
    endpoint = register(api, receiver, endpoints_to_delete)
    old = endpoint["secret"]
    rotated = api.post(f"/api/v1/webhook_endpoints/{endpoint['id']}/rotate_secret")
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()["secret"]
    assert new.startswith("whsec_") and new != old
    assert {k: v for k, v in rotated.json().items() if k != "secret"} == {
        k: v for k, v in endpoint.items() if k != "secret"
    }
    assert all("secret" not in e for e in api.get("/api/v1/webhook_endpoints").json()["data"])
    assert api.post("/api/v1/webhook_endpoints/we_nope/rotate_secret").status_code == 404
    # A receiver that still has the old secret verifies, and so does one with the new.
    for n, secret in enumerate((old, new), start=1):
        receiver.secret = secret
        record_events(merchant.merchant_id, 1)
        pump(lambda n=n: receiver.count() >= n)
        got = receiver.snapshot()[n - 1]
        assert got.verified, got.error


def test_rotate_secret_of_another_merchants_endpoint_is_404(
    api: httpx.Client,
    other_merchant: Any,
    live_server: LiveServer,
    receivers: Callable[..., Receiver],
    endpoints_to_delete: list[str],
) -> None:
    endpoint = register(api, receivers(), endpoints_to_delete)
    with live_server.client(other_merchant.api_key) as other:
        answer = other.post(f"/api/v1/webhook_endpoints/{endpoint['id']}/rotate_secret")
    assert answer.status_code == 404 and answer.json()["error"]["code"] == "resource_missing"
