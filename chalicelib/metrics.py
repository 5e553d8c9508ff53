"""CloudWatch embedded metric format (EMF): a JSON log line that is also metrics.

On Lambda, CloudWatch Logs extracts the metrics named under `_aws`; locally the
line is just a structured log line. No client, no API call, no extra latency.
"""

from __future__ import annotations

import json
import time
from typing import Any

from chalicelib.logging_setup import write_line

NAMESPACE = "PaymentGateway"


def emf_line(
    dimensions: dict[str, str], metrics: dict[str, tuple[float, str]], fields: dict[str, Any]
) -> str:
    """One EMF JSON line: dimension values, metric values and any other fields."""
    document: dict[str, Any] = {
        "_aws": {
            "Timestamp": int(time.time() * 1000),
            "CloudWatchMetrics": [
                {
                    "Namespace": NAMESPACE,
                    "Dimensions": [list(dimensions)],
                    "Metrics": [
                        {"Name": name, "Unit": unit} for name, (_, unit) in metrics.items()
                    ],
                }
            ],
        },
        **dimensions,
        **{name: value for name, (value, _) in metrics.items()},
        **fields,
    }
    return json.dumps(document, default=str)


def emit(
    dimensions: dict[str, str], metrics: dict[str, tuple[float, str]], fields: dict[str, Any]
) -> None:
    """Write the EMF line with the logs (stdout, that is CloudWatch Logs, on Lambda;
    locally, LOG_FILE when the process has one)."""
    write_line(emf_line(dimensions, metrics, fields))
