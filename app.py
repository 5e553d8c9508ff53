"""The Chalice app: blueprints, middleware and scheduled handlers. No logic lives here."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from chalice import Chalice, Rate

from chalicelib.api import (
    checkout,
    dashboard,
    events,
    operations,
    operator,
    payment_links,
    payments,
    refunds,
    webhooks,
)
from chalicelib.api.pipeline import http_middleware
from chalicelib.logging_setup import configure_logging

if TYPE_CHECKING:
    from chalice.app import CloudWatchEvent

configure_logging(os.environ.get("LOG_LEVEL", "INFO"))

app = Chalice(app_name="payment-gateway")
# No binary media types: every answer is JSON or text (the dashboard's HTML, CSS and
# JS). Chalice's default list of 16 is matched, each entry lower-cased, against the
# request's and the answer's content types on every request (~7 µs a request, measured),
# and it would have API Gateway base64-encode bodies of those types, which we refuse
# with 415 anyway.
app.api.binary_types = []
app.register_middleware(http_middleware, "http")
app.register_blueprint(payments.bp)
app.register_blueprint(operations.bp)
app.register_blueprint(refunds.bp)
app.register_blueprint(webhooks.bp)
app.register_blueprint(events.bp)
app.register_blueprint(operator.bp)
app.register_blueprint(dashboard.bp)
app.register_blueprint(payment_links.bp)
app.register_blueprint(checkout.bp)


@app.schedule(
    Rate(1, unit=Rate.MINUTES),
    name="process_payments",
    description="Drain the payments stream: execute, retry, finish",
)
def process_payments(event: CloudWatchEvent) -> dict[str, Any]:
    from chalicelib.handlers import process_payments as handler

    return handler.process_payments(event.context)


@app.schedule(
    Rate(1, unit=Rate.MINUTES),
    name="deliver_webhooks",
    description="Send due webhook deliveries, record attempts, schedule retries",
)
def deliver_webhooks(event: CloudWatchEvent) -> dict[str, Any]:
    from chalicelib.handlers import deliver_webhooks

    return deliver_webhooks.deliver_webhooks(event.context)


@app.schedule(
    Rate(1, unit=Rate.MINUTES),
    name="expire_authorizations",
    description="Void manual-capture authorizations past their capture_before",
)
def expire_authorizations(event: CloudWatchEvent) -> dict[str, Any]:
    from chalicelib.handlers import expire_authorizations as handler

    return handler.expire_authorizations(event.context)


@app.schedule(
    Rate(1, unit=Rate.HOURS),
    name="prune_idempotency_keys",
    description="Delete idempotency records older than their time to live (>= 24 h)",
)
def prune_idempotency_keys(event: CloudWatchEvent) -> dict[str, Any]:
    from chalicelib.handlers import prune_idempotency_keys

    return prune_idempotency_keys.prune(event.context)


@app.schedule(
    Rate(1, unit=Rate.DAYS),
    name="reconcile_settlements",
    description="Compare yesterday's acquirer settlement with our records; report to S3",
)
def reconcile_settlements(event: CloudWatchEvent) -> dict[str, Any]:
    from chalicelib.handlers import reconcile_settlements

    return reconcile_settlements.reconcile_settlements(event.context)


@app.lambda_function(name="migrate_database")
def migrate_database(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Apply the migrations; invoked by the deploy (CloudFormation or Terraform)."""
    from chalicelib import migration_handler

    return migration_handler.handle(event, context)
