"""The connector for the acquirer service over HTTP (JSON, aiohttp, keep-alive pool).

Every call carries an `Idempotency-Key` and runs under one whole-call deadline
(`asyncio.timeout`: connect, send, wait and read together), never a per-read socket
timeout. The session and its connection pool live on the process-wide loop of
`connectors.runner`, so they survive batches and threads: a coroutine awaited on any
other loop hops onto that one. Outcomes come from `wire.py` and nowhere else.
"""

from __future__ import annotations

import asyncio
import csv
import io
import time
import uuid
from collections.abc import Coroutine, Sequence
from datetime import date
from typing import Any
from urllib.parse import quote

import aiohttp

from chalicelib.connectors import runner
from chalicelib.connectors.acquirer import capture_wire, wire
from chalicelib.connectors.base import (
    AttemptResult,
    ChargeRequest,
    Connector,
    InquiryResult,
    OperationRequest,
    RefundRequest,
)
from chalicelib.errors import InvalidRequestError, ServiceUnavailableError

_JSON = {"Content-Type": "application/json"}


class AcquirerConnector(Connector):
    """An acquirer reached at `base_url`."""

    answers_each_call = True
    can_void = True

    def __init__(
        self,
        base_url: str,
        *,
        name: str = "acquirer",
        deadline_s: float = 10.0,
        concurrency: int = 1024,
        report_deadline_s: float = 60.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.name = name
        self.deadline_s = deadline_s
        self.concurrency = concurrency
        self.report_deadline_s = report_deadline_s
        self._session: aiohttp.ClientSession | None = None
        self._session_loop: asyncio.AbstractEventLoop | None = None

    # ------------------------------------------------------------------ plumbing
    def _client(self) -> aiohttp.ClientSession:
        """The pooled session of the runner's loop (made there on first use)."""
        loop = asyncio.get_running_loop()
        if self._session is None or self._session_loop is not loop or self._session.closed:
            connector = aiohttp.TCPConnector(
                limit=self.concurrency, limit_per_host=0, keepalive_timeout=30
            )
            # No aiohttp timeout: the deadline is ours, around the whole call.
            self._session = aiohttp.ClientSession(
                connector=connector, timeout=aiohttp.ClientTimeout(total=None)
            )
            self._session_loop = loop
            runner.on_shutdown(self.aclose)
        return self._session

    async def _exchange(
        self, method: str, path: str, key: str | None, body: bytes | None, deadline_s: float
    ) -> tuple[int, bytes, bool]:
        """(status, body, replayed) of one call, all of it within `deadline_s`."""
        headers = dict(_JSON) if body is not None else {}
        if key is not None:
            headers["Idempotency-Key"] = key
        async with asyncio.timeout(deadline_s):
            async with self._client().request(
                method, self.base_url + path, data=body, headers=headers
            ) as response:
                payload = await response.read()
                replayed = response.headers.get("Idempotent-Replayed") == "true"
                return response.status, payload, replayed

    async def _money_call(self, path: str, key: str, body: bytes) -> AttemptResult:
        started = time.perf_counter()
        try:
            status, payload, replayed = await self._exchange(
                "POST", path, key, body, self.deadline_s
            )
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            return wire.outcome_of_failure(exc, _ms(started))
        return wire.outcome_of(status, payload, _ms(started), replayed)

    async def _inquiry(self, path: str, body: bytes | None = None) -> InquiryResult:
        """An inquiry (GET) or, with a body, a void by key (POST): neither moves money."""
        started = time.perf_counter()
        method = "GET" if body is None else "POST"
        try:
            status, payload, _ = await self._exchange(method, path, None, body, self.deadline_s)
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            return wire.inquiry_of_failure(exc, _ms(started))
        if body is None:
            return wire.inquiry_of(status, payload, _ms(started))
        return wire.void_of(status, payload, _ms(started))

    # ------------------------------------------------------------------ the calls
    async def authorize(self, request: ChargeRequest) -> AttemptResult:
        body = wire.AuthorizeWire.of(request).model_dump_json().encode()
        return await runner.call_on_loop(
            lambda: self._money_call("/v1/authorizations", request.idempotency_key, body)
        )

    async def refund(self, request: RefundRequest) -> AttemptResult:
        body = wire.RefundWire.of(request).model_dump_json().encode()
        return await runner.call_on_loop(
            lambda: self._money_call("/v1/refunds", request.idempotency_key, body)
        )

    async def retrieve_payment(self, idempotency_key: str) -> InquiryResult:
        path = f"/v1/authorizations/{_quote(idempotency_key)}"
        return await runner.call_on_loop(lambda: self._inquiry(path))

    async def retrieve_refund(self, idempotency_key: str) -> InquiryResult:
        path = f"/v1/refunds/{_quote(idempotency_key)}"
        return await runner.call_on_loop(lambda: self._inquiry(path))

    async def void_payment(self, idempotency_key: str, payment_id: str) -> InquiryResult:
        path = f"/v1/authorizations/{_quote(idempotency_key)}/void"
        body = wire.VoidWire(payment_id=payment_id).model_dump_json().encode()
        return await runner.call_on_loop(lambda: self._inquiry(path, body))

    # ------------------------------------------------------------ manual capture
    async def capture(self, request: OperationRequest) -> AttemptResult:
        body = capture_wire.CaptureWire.of(request).model_dump_json().encode()
        return await runner.call_on_loop(
            lambda: self._money_call("/v1/captures", request.idempotency_key, body)
        )

    async def void(self, request: OperationRequest) -> AttemptResult:
        path = f"/v1/authorizations/{_quote(request.charge_key)}/void"
        body = capture_wire.VoidAuthorizationWire(payment_id=request.payment_id)

        async def call() -> AttemptResult:
            started = time.perf_counter()
            try:
                status, payload, _ = await self._exchange(
                    "POST", path, None, body.model_dump_json().encode(), self.deadline_s
                )
            except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                return wire.outcome_of_failure(exc, _ms(started))
            return capture_wire.void_of(status, payload, _ms(started))

        return await runner.call_on_loop(call)

    async def retrieve_capture(self, idempotency_key: str) -> InquiryResult:
        path = f"/v1/captures/{_quote(idempotency_key)}"
        return await runner.call_on_loop(lambda: self._inquiry(path))

    async def retrieve_void(self, charge_key: str) -> InquiryResult:
        path = f"/v1/authorizations/{_quote(charge_key)}"

        async def call() -> InquiryResult:
            started = time.perf_counter()
            try:
                status, payload, _ = await self._exchange("GET", path, None, None, self.deadline_s)
            except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                return wire.inquiry_of_failure(exc, _ms(started))
            return capture_wire.void_inquiry_of(status, payload, _ms(started))

        return await runner.call_on_loop(call)

    async def void_refund(self, idempotency_key: str) -> InquiryResult:
        path = f"/v1/refunds/{_quote(idempotency_key)}/void"
        return await runner.call_on_loop(lambda: self._inquiry(path, b"{}"))

    # A batch hops onto the runner's loop once, then its calls overlap there (straight to
    # the exchange: no per-call hop, which is most of the connector's cost per call).
    async def authorize_many(self, requests: list[ChargeRequest]) -> list[AttemptResult]:
        calls = [
            ("/v1/authorizations", r.idempotency_key, wire.AuthorizeWire.of(r)) for r in requests
        ]
        return await self._batch(self._money_calls(calls))

    async def refund_many(self, requests: list[RefundRequest]) -> list[AttemptResult]:
        calls = [("/v1/refunds", r.idempotency_key, wire.RefundWire.of(r)) for r in requests]
        return await self._batch(self._money_calls(calls))

    async def _money_calls(
        self, calls: Sequence[tuple[str, str, wire.AuthorizeWire | wire.RefundWire]]
    ) -> list[AttemptResult]:
        limit = asyncio.Semaphore(self.concurrency)

        async def one(path: str, key: str, body: bytes) -> AttemptResult:
            async with limit:
                return await self._money_call(path, key, body)

        return list(
            await asyncio.gather(
                *(one(path, key, model.model_dump_json().encode()) for path, key, model in calls)
            )
        )

    async def settle_payments(self, keys: list[tuple[str, str, bool]]) -> list[InquiryResult]:
        return await self._batch(super().settle_payments(keys))

    async def settle_refunds(self, keys: list[tuple[str, bool]]) -> list[InquiryResult]:
        return await self._batch(super().settle_refunds(keys))

    @staticmethod
    async def _batch[T](work: Coroutine[Any, Any, T]) -> T:
        return await runner.call_on_loop(lambda: work)

    def tokenize_card(self, number: str, exp_month: int, exp_year: int, cvc: str) -> str:
        """The acquirer's token for the card; raises the contract's error when it has none."""
        body = wire.TokenizeWire(
            number=number, exp_month=exp_month, exp_year=exp_year, cvc=cvc
        ).model_dump_json()
        key = f"tokreq_{uuid.uuid4().hex}"
        call = self._exchange("POST", "/v1/tokens", key, body.encode(), self.deadline_s)
        try:
            status, payload, _ = runner.run(call, timeout=self.deadline_s + 1)
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise ServiceUnavailableError("The acquirer could not tokenize the card") from exc
        if status == 200:
            return wire.TokenAnswer.model_validate_json(payload).token
        if 400 <= status < 500 and status != 429:
            raise InvalidRequestError("The acquirer refused the card details", param="card")
        raise ServiceUnavailableError("The acquirer could not tokenize the card")

    def describe_token(self, token: str) -> wire.TokenDetails | None:
        """The card summary of one of this acquirer's tokens (from its card element);
        None when the acquirer has no such token."""
        path = "/v1/tokens/" + quote(token, safe="")
        call = self._exchange("GET", path, None, None, self.deadline_s)
        try:
            status, payload, _ = runner.run(call, timeout=self.deadline_s + 1)
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise ServiceUnavailableError("The acquirer could not be reached") from exc
        if status == 200:
            return wire.TokenDetails.model_validate_json(payload)
        if status == 404:
            return None
        raise ServiceUnavailableError("The acquirer could not describe the card token")

    async def fetch_settlement(self, day: date) -> list[wire.SettlementLine]:
        """The acquirer's settlement report of `day`: its captures and refunds."""

        async def fetch() -> tuple[int, bytes, bool]:
            path = f"/v1/settlements/{day.isoformat()}.csv"
            return await self._exchange("GET", path, None, None, self.report_deadline_s)

        status, payload, _ = await runner.call_on_loop(fetch)
        if status != 200:
            raise ServiceUnavailableError(f"The acquirer's settlement report answered {status}")
        rows = csv.DictReader(io.StringIO(payload.decode()))
        return [
            wire.SettlementLine.model_validate({k: (v or None) for k, v in row.items()})
            for row in rows
        ]

    async def aclose(self) -> None:
        """Close the pool, on the loop that owns it."""
        session, loop, self._session = self._session, self._session_loop, None
        if session is None or session.closed or loop is None:
            return
        if asyncio.get_running_loop() is loop:
            await session.close()
        elif loop.is_running():
            await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(session.close(), loop))


def _ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)


def _quote(key: str) -> str:
    from urllib.parse import quote

    return quote(key, safe="")
