"""Operator routes: every merchant's queue health, throughput, volume and dead letters.

They take an operator key only (`api.auth`); a merchant key gets 403.
"""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.api.endpoint import ApiResult, Call, endpoint

bp = Blueprint(__name__)

ERRORS = (401, 403, 429, 500, 503)


@endpoint(
    bp,
    "/api/v1/operator/queue",
    "GET",
    summary="Payments queue: depth, pending, oldest age, lag, retries, dead letters",
    response="operator.QueueMetrics",
    errors=ERRORS,
    operator=True,
    access="read",
)
def get_queue(call: Call) -> ApiResult:
    from chalicelib.services import operator_metrics

    return ApiResult(operator_metrics.queue_metrics(call.conn))


@endpoint(
    bp,
    "/api/v1/operator/throughput",
    "GET",
    summary="Payments accepted, succeeded and failed per minute (default: the last hour)",
    query="operator.ThroughputQuery",
    response="operator.Throughput",
    errors=(400, *ERRORS),
    operator=True,
    access="read",
)
def get_throughput(call: Call) -> ApiResult:
    from chalicelib.services import operator_metrics

    return ApiResult(operator_metrics.throughput(call.conn, call.query.minutes))


@endpoint(
    bp,
    "/api/v1/operator/merchants",
    "GET",
    summary="Per-merchant payments, success rate and volume (default: the last 24 hours)",
    query="operator.MerchantVolumeQuery",
    response="operator.MerchantVolumeList",
    errors=(400, *ERRORS),
    operator=True,
    access="read",
)
def list_merchant_volume(call: Call) -> ApiResult:
    from chalicelib.models.operator import MerchantVolumeList
    from chalicelib.services import operator_metrics

    data, has_more = operator_metrics.merchant_volume(call.conn, call.query.hours, call.query.limit)
    return ApiResult(MerchantVolumeList(data=data, has_more=has_more))


@endpoint(
    bp,
    "/api/v1/operator/dead_letters",
    "GET",
    summary="Dead-lettered queue entries, oldest first",
    query="operator.DeadLetterQuery",
    response="operator.DeadLetterList",
    errors=(400, *ERRORS),
    operator=True,
    access="read",
)
def list_dead_letters(call: Call) -> ApiResult:
    from chalicelib.models.operator import DeadLetterList
    from chalicelib.services import operator_metrics

    data, has_more = operator_metrics.dead_letters(call.query.limit)
    return ApiResult(DeadLetterList(data=data, has_more=has_more))


@endpoint(
    bp,
    "/api/v1/operator/dead_letters/replay",
    "POST",
    summary="Put dead letters (all, or the given ids) back on their stream",
    body="operator.ReplayRequest",
    response="operator.Replayed",
    errors=(400, 413, 415, *ERRORS),
    operator=True,
    access="write",
)
def replay_dead_letters(call: Call) -> ApiResult:
    from chalicelib.models.operator import Replayed
    from chalicelib.services import operator_metrics

    ids = call.body.ids if call.body is not None else None
    replayed = operator_metrics.replay(call.uow, ids)
    return ApiResult(Replayed(replayed=replayed["replayed"], removed=replayed["removed"]))
