"""The soak's load: clients that retry a failed request under the same Idempotency-Key.

Every operation is recorded with its outcome (Jepsen's habit): `ok` with the answer,
`rejected` with a definitive 4xx, or `unknown` when no answer came before the client
gave up. Every 500 seen, on any try, is kept: the contract allows none.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

#: (weight, method details) of every test-mode outcome (docs/api.md, docs/acquirer.md)
SCENARIOS: list[tuple[int, dict[str, Any]]] = [
    (24, {"method": "upi", "vpa": "success@upi"}),
    (8, {"method": "upi", "vpa": "failure@upi"}),
    (8, {"method": "upi", "vpa": "flaky@upi"}),
    (4, {"method": "upi", "vpa": "down@upi"}),
    (10, {"method": "upi", "vpa": "slow@upi"}),
    (8, {"method": "card", "card": {"number": "4242424242424242"}}),
    (3, {"method": "card", "card": {"number": "5555555555554444"}}),
    (4, {"method": "card", "card": {"number": "4000000000000002"}}),
    (2, {"method": "card", "card": {"number": "4000000000009995"}}),
    (2, {"method": "card", "card": {"number": "4000000000000069"}}),
    (4, {"method": "card", "card": {"number": "4000000000000341"}}),
    (2, {"method": "card", "card": {"number": "4000000000000119"}}),
    (3, {"method": "netbanking", "bank": "HDFC"}),
    (3, {"method": "wallet", "wallet": "paytm"}),
]
#: give up retrying one operation after this long (its outcome is then `unknown`)
GIVE_UP_S = 45.0
RETRIED = {409, 429, 502, 503, 504}


@dataclass
class Op:
    kind: str
    key: str
    path: str
    started: float
    status: int | None = None
    outcome: str = "unknown"
    tries: int = 0
    answer: dict[str, Any] | None = None
    errors: list[str] = field(default_factory=list)
    order_id: str | None = None
    payment_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        data = {k: v for k, v in self.__dict__.items() if k != "answer"}
        data["errors"] = self.errors[:5]
        return data


@dataclass
class History:
    ops: list[Op] = field(default_factory=list)
    http_500: list[dict[str, Any]] = field(default_factory=list)
    payments: dict[str, int] = field(default_factory=dict)  # acknowledged id -> amount
    unacknowledged_orders: list[str] = field(default_factory=list)
    refunds: dict[str, str] = field(default_factory=dict)  # acknowledged refund -> payment
    #: manual-capture payments acknowledged, and what was asked of each
    manual: dict[str, str] = field(default_factory=dict)


class Load:
    """`clients` coroutines issuing payments, refunds and cancels until `stop` is set."""

    def __init__(self, base_url: str, api_key: str, seed: int, clients: int = 6) -> None:
        self.base_url, self.api_key = base_url, api_key
        self.rng = random.Random(seed)
        self.clients = clients
        self.history = History()
        self.stop = asyncio.Event()
        self.run_id = uuid.uuid4().hex[:8]
        self.count = 0
        #: manual-capture flows, which wait for their authorization off the client's loop
        self.flows: set[asyncio.Task[None]] = set()
        self.flow_errors: list[BaseException] = []

    async def run(self) -> History:
        limits = httpx.Limits(max_connections=self.clients * 4)
        async with httpx.AsyncClient(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {self.api_key}"},
            timeout=httpx.Timeout(10.0),
            limits=limits,
        ) as http:
            await asyncio.gather(*(self._client(http) for _ in range(self.clients)))
            await asyncio.gather(*self.flows)  # each ends within ~20 s plus its calls' retries
        if self.flow_errors:  # as loudly as when the flows ran on the clients' loops
            raise self.flow_errors[0]
        return self.history

    def _flow_done(self, flow: asyncio.Task[None]) -> None:
        self.flows.discard(flow)
        error = None if flow.cancelled() else flow.exception()
        if error is not None:
            self.flow_errors.append(error)

    async def _client(self, http: httpx.AsyncClient) -> None:
        while not self.stop.is_set():
            draw = self.rng.random()
            if draw < 0.5:
                await self.create_payment(http)
            elif draw < 0.75:
                await self.refund_some(http)
            elif draw < 0.85:
                await self.create_and_cancel(http)
            else:
                # Not awaited: a client waiting up to 20 s for each authorization issued
                # about a third of the load it issues with this (662 against 1,623
                # payments in a 3-minute soak).
                flow = asyncio.create_task(self.manual_payment(http))
                self.flows.add(flow)
                flow.add_done_callback(self._flow_done)
            await asyncio.sleep(self.rng.uniform(0.1, 0.8))

    async def call(
        self, http: httpx.AsyncClient, kind: str, method: str, path: str, body: dict | None
    ) -> Op:
        """One operation, retried under one Idempotency-Key until it is answered for good."""
        op = Op(kind, f"soak-{self.run_id}-{uuid.uuid4().hex[:16]}", path, time.time())
        self.history.ops.append(op)
        deadline = time.monotonic() + GIVE_UP_S
        delay = 0.2
        while time.monotonic() < deadline:
            op.tries += 1
            try:
                response = await http.request(
                    method, path, json=body, headers={"Idempotency-Key": op.key}
                )
            except httpx.HTTPError as exc:
                op.errors.append(type(exc).__name__)
            else:
                op.status = response.status_code
                if response.status_code >= 500 and response.status_code != 503:
                    self.history.http_500.append(
                        {"op": kind, "path": path, "status": op.status, "body": response.text[:300]}
                    )
                if response.status_code < 400:
                    op.outcome, op.answer = "ok", response.json()
                    return op
                if response.status_code < 500 and response.status_code not in RETRIED:
                    op.outcome, op.answer = "rejected", _json(response)
                    return op
                code = (_json(response).get("error") or {}).get("code")
                if response.status_code == 409 and code != "idempotency_key_in_use":
                    op.outcome, op.answer = "rejected", _json(response)
                    return op
                op.errors.append(f"{response.status_code} {code}")
            await asyncio.sleep(delay)
            delay = min(3.0, delay * 2)
        return op

    def _payment_body(self) -> dict[str, Any]:
        self.count += 1
        weights = [w for w, _ in SCENARIOS]
        details = dict(self.rng.choices([s for _, s in SCENARIOS], weights)[0])
        if "card" in details:
            details["card"] = {**details["card"], "exp_month": 12, "exp_year": 2035, "cvc": "123"}
        return {
            "order_id": f"soak_{self.run_id}_{self.count}",
            "amount": self.rng.randint(100, 500_000),
            "currency": "INR",
            **details,
        }

    async def create_payment(self, http: httpx.AsyncClient) -> str | None:
        body = self._payment_body()
        op = await self.call(http, "create_payment", "POST", "/api/v1/payments", body)
        op.order_id = body["order_id"]
        if op.outcome == "ok" and op.answer:
            op.payment_id = op.answer["id"]
            self.history.payments[op.payment_id] = body["amount"]
            return op.payment_id
        if op.outcome == "unknown":
            self.history.unacknowledged_orders.append(body["order_id"])
        return None

    async def create_and_cancel(self, http: httpx.AsyncClient) -> None:
        payment = await self.create_payment(http)
        if payment:
            await asyncio.sleep(self.rng.choice([0, 0, 0.05, 0.3]))
            op = await self.call(http, "cancel", "POST", f"/api/v1/payments/{payment}/cancel", None)
            op.payment_id = payment

    async def manual_payment(self, http: httpx.AsyncClient) -> None:
        """A manual-capture payment, then once AUTHORIZED: a full or partial capture, a
        void, a capture and a void at once, or nothing (it expires)."""
        body = {**self._payment_body(), "capture_method": "manual"}
        op = await self.call(http, "create_payment", "POST", "/api/v1/payments", body)
        op.order_id = body["order_id"]
        if op.outcome != "ok" or not op.answer:
            if op.outcome == "unknown":
                self.history.unacknowledged_orders.append(body["order_id"])
            return
        payment, amount = op.answer["id"], body["amount"]
        op.payment_id = payment
        self.history.payments[payment] = amount
        plan = self.rng.choice(["full", "partial", "partial", "void", "race", "expire"])
        self.history.manual[payment] = plan
        for _ in range(40):  # until it is authorized (or failed), at most ~20 s
            await asyncio.sleep(0.5)
            try:
                found = await http.get(f"/api/v1/payments/{payment}")
            except httpx.HTTPError:
                continue
            status = found.json().get("status") if found.status_code == 200 else None
            if status != "PENDING" and status != "PROCESSING":
                break
        else:
            return
        if status != "AUTHORIZED" or plan == "expire":
            return
        capture_path = f"/api/v1/payments/{payment}/capture"
        cancel_path = f"/api/v1/payments/{payment}/cancel"
        partial = {"amount": max(1, amount * self.rng.choice([1, 2, 3]) // 4)}
        calls = {
            "full": [("capture", capture_path, {})],
            "partial": [("capture", capture_path, partial)],
            "void": [("cancel", cancel_path, None)],
            "race": [("capture", capture_path, partial), ("cancel", cancel_path, None)],
        }[plan]
        ops = await asyncio.gather(
            *(self.call(http, kind, "POST", path, b) for kind, path, b in calls)
        )
        for done in ops:
            done.payment_id = payment

    async def refund_some(self, http: httpx.AsyncClient) -> None:
        """Refunds of a payment that succeeded: one, or two or three at once."""
        if not self.history.payments:
            return
        payment = self.rng.choice(list(self.history.payments))
        try:
            found = await http.get(f"/api/v1/payments/{payment}")
        except httpx.HTTPError:
            return
        if found.status_code != 200 or found.json().get("status") != "SUCCESS":
            return
        amount = int(found.json().get("amount_captured") or self.history.payments[payment])
        bodies: list[dict[str, Any]] = []
        for _ in range(self.rng.choice([1, 1, 2, 3])):
            share = self.rng.choice([None, amount // 2, amount // 3 + 1, amount])
            bodies.append({} if share is None else {"amount": max(1, share)})
        path = f"/api/v1/payments/{payment}/refunds"
        ops = await asyncio.gather(*(self.call(http, "refund", "POST", path, b) for b in bodies))
        for op in ops:
            op.payment_id = payment
            if op.outcome == "ok" and op.answer:
                self.history.refunds[op.answer["id"]] = payment


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        value = response.json()
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
