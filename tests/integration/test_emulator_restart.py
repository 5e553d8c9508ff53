"""Issue 24, item 6: webhook signing secrets survive a restart of the AWS emulator.

The secrets are sealed under a KMS key that the emulator keeps in memory. Restarted,
the stack must make the same key again (same id, same material, from .stack/), or
every endpoint registered before is undeliverable while Postgres still holds it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import httpx
import pytest

from chalicelib.handlers import deliver_webhooks as webhook_delivery
from infra import stack_services
from infra.stack_base import STACK_DIR
from infra.stack_emulator import bootstrap_emulator
from tests.e2e.test_webhooks import latest_event_ids, record_events, register
from tests.e2e.webhook_receiver import Receiver
from tests.support import FakeContext, wait_until


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    made = Receiver(lambda n: 200).start()
    yield made
    made.stop()


def restart_emulator() -> dict[str, str]:
    """Stop the stack's emulator, start it again and bootstrap it, as `make run` does."""
    stack_services.stop_aws_emulator()
    wait_until(lambda: not stack_services.port_open(stack_services.HOST, stack_services.AWS_PORT))
    # The stack's supervisor may restart it first (it watches what the stack started):
    # either way, one emulator of this checkout answers again, and is bootstrapped.
    stack_services.start_aws_emulator()
    wait_until(lambda: stack_services.port_open(stack_services.HOST, stack_services.AWS_PORT))
    return bootstrap_emulator(dict(os.environ))


@pytest.mark.skipif(
    not (STACK_DIR / "moto" / "moto.pid").exists(),
    reason="the AWS emulator was not started by this stack (moto under .stack/)",
)
def test_an_endpoint_registered_before_a_restart_is_delivered_to(
    api: httpx.Client, merchant, receiver: Receiver
) -> None:
    cleanup: list[str] = []
    register(api, receiver, cleanup)
    try:
        named = restart_emulator()
        # The same key, so WEBHOOK_SECRETS_KMS_KEY_ID of running processes stays right.
        assert named["WEBHOOK_SECRETS_KMS_KEY_ID"] == os.environ["WEBHOOK_SECRETS_KMS_KEY_ID"]
        record_events(merchant.merchant_id, 1)
        [event_id] = latest_event_ids(api)

        def delivered() -> bool:
            webhook_delivery.deliver_webhooks(FakeContext(30))
            return receiver.count() >= 1

        wait_until(delivered, timeout=20)
        [got] = receiver.snapshot()
        assert got.webhook_id == event_id
        assert got.verified, got.error  # signed with the secret given at registration
    finally:
        for endpoint_id in cleanup:
            api.delete(f"/api/v1/webhook_endpoints/{endpoint_id}")
