"""Helpers shared by the e2e tests: unique ids and payments brought to a given state."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx


def unique(prefix: str = "order") -> str:
    return f"{prefix}_{uuid.uuid4().hex[:16]}"


def create_payment(api: httpx.Client, amount: int = 10_000, **fields: Any) -> dict[str, Any]:
    body = {"order_id": unique(), "amount": amount, "currency": "INR", "method": "upi"}
    body.update(fields)
    response = api.post("/api/v1/payments", json=body)
    assert response.status_code == 202, response.text
    return response.json()


def successful_payment(
    api: httpx.Client, run_processor: Callable[..., dict[str, Any]], amount: int = 10_000
) -> dict[str, Any]:
    """A payment that the processor has taken to SUCCESS."""
    payment = create_payment(api, amount, vpa="success@upi")
    run_processor()
    current = api.get(f"/api/v1/payments/{payment['id']}").json()
    assert current["status"] == "SUCCESS", current
    return current
