"""Per-connector figures of one `process_payments` run, emitted as EMF lines.

For each connector: calls, latency p50/p99, timeouts, unknown outcomes, certain
errors, failovers (attempts routed away from the merchant's primary) and whether
its breaker is open. One JSON line per connector per run, as CloudWatch's
embedded metric format, so alarms and the dashboard can read them.
"""

from __future__ import annotations

import statistics
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from chalicelib import metrics
from chalicelib.connectors.base import AttemptResult


@dataclass
class _Figures:
    calls: int = 0
    latencies_ms: list[int] = field(default_factory=list)
    timeouts: int = 0
    unknown: int = 0
    errors: int = 0
    failovers: int = 0


_lock = threading.Lock()
_run: dict[str, _Figures] = defaultdict(_Figures)


def start_run() -> None:
    with _lock:
        _run.clear()


def record(connector: str, results: list[AttemptResult], failovers: int = 0) -> None:
    with _lock:
        figures = _run[connector]
        figures.calls += len(results)
        figures.failovers += failovers
        for result in results:
            figures.latencies_ms.append(result.latency_ms)
            if result.outcome == "unknown":
                figures.unknown += 1
                figures.timeouts += result.failure_code == "timeout"
            elif result.outcome == "transient_error":
                figures.errors += 1


def _quantile(values: list[int], q: float) -> float:
    if len(values) < 2:
        return float(values[0]) if values else 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[int(q * 100) - 1]


def emit(stage: str, open_breakers: set[str]) -> dict[str, dict[str, Any]]:
    """One EMF line per connector that was called (or whose breaker is open)."""
    with _lock:
        run = {name: figures for name, figures in _run.items()}
    summary: dict[str, dict[str, Any]] = {}
    for name in sorted(set(run) | open_breakers):
        figures = run.get(name, _Figures())
        values = {
            "ConnectorCalls": (figures.calls, "Count"),
            "ConnectorLatencyP50": (_quantile(figures.latencies_ms, 0.5), "Milliseconds"),
            "ConnectorLatencyP99": (_quantile(figures.latencies_ms, 0.99), "Milliseconds"),
            "ConnectorTimeouts": (figures.timeouts, "Count"),
            "UnknownOutcomes": (figures.unknown, "Count"),
            "ConnectorErrors": (figures.errors, "Count"),
            "Failovers": (figures.failovers, "Count"),
            "BreakerOpen": (int(name in open_breakers), "Count"),
        }
        metrics.emit(
            {"Connector": name, "Stage": stage},
            values,
            {"message": "connector summary", "handler": "process_payments"},
        )
        summary[name] = {metric: value for metric, (value, _) in values.items()}
    return summary
