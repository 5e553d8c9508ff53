"""The AWS cost of one million payments, from `bench/lambda_cost.py`'s figures.

    python -m bench.aws_cost docs/bench/lambda-cost.jsonl     # the table docs/deploy.md quotes

Per payment: one `POST /payments` through API Gateway (REST API) to the API function,
and its share of the `process_payments` invocations that drained it. Each line is
measured or comes from the template's settings (memory); the prices are us-east-1 list
prices as known on `PRICES_DATE` (check the AWS pricing pages). Flat monthly charges
(the database's minimum ACUs, RDS Proxy's 8-ACU minimum, the cache's minimum storage,
endpoints, the KMS key, secrets, SnapStart's cache) are in docs/deploy.md's idle table,
not here: a million more payments do not change them.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

REGION = "us-east-1"
PRICES_DATE = "2026-12-07"
PRICES = {
    "lambda_gb_s": 0.0000166667,  # x86_64, first 6 billion GB-s a month
    "lambda_request": 0.20 / 1e6,
    "api_gateway_rest_request": 3.50 / 1e6,  # first 333 million a month
    "acu_h": 0.12,  # Aurora Serverless v2, Aurora Standard
    "elasticache_ecpu": 0.0023 / 1e6,  # ElastiCache Serverless, Valkey
    "kms_request": 0.03 / 10_000,
    "cloudwatch_log_gb": 0.50,  # Logs ingestion, standard class
}
#: vCPUs per ACU: AWS gives 2 GiB of memory per ACU "with corresponding compute";
#: memory-optimised instances have 1 vCPU per 8 GiB, so 0.25 vCPU per ACU.
VCPU_PER_ACU = 0.25
#: Lambda's own START, END and REPORT lines per invocation (about 60, 50 and 140 bytes).
PLATFORM_LOG_BYTES = 250
#: KMS requests per payment on the accept and drain paths: none (only webhook endpoints'
#: creation and deliveries use the key, chalicelib/adapters/kms.py).
KMS_REQUESTS_PER_PAYMENT = 0
MILLION = 1_000_000


def load(path: Path) -> dict[str, dict[str, Any]]:
    """The figures of one bench run (JSON lines, `_meta` line allowed), by name."""
    figures = {}
    for line in path.read_text().splitlines():
        if line.strip():
            figure = json.loads(line)
            figures[figure["name"]] = figure
    return figures


def rows(figures: dict[str, dict[str, Any]]) -> list[tuple[str, str, float]]:
    """(part, quantity per million payments, USD) for each line of the cost."""
    accept = figures["lambda_accept_billed_ms"]
    drain = figures["lambda_drain_billed_ms_per_payment"]
    api_gb_s = accept["value"] / 1000 * accept["memory_mb"] / 1024 * MILLION
    drain_gb_s = drain["value"] / 1000 * drain["memory_mb"] / 1024 * MILLION
    drain_invocations = MILLION * drain["invocations"] / drain["payments"]
    pg_cpu_s = (accept["postgres_cpu_ms_per_payment"] + drain["postgres_cpu_ms_per_payment"]) * 1e3
    acu_hours = pg_cpu_s / 3600 / VCPU_PER_ACU
    commands = (accept["redis_commands_per_payment"] + drain["redis_commands_per_payment"]) * 1e6
    log_bytes = (accept["log_bytes_per_payment"] + drain["log_bytes_per_payment"]) * MILLION
    log_bytes += PLATFORM_LOG_BYTES * (MILLION + drain_invocations)
    log_gb = log_bytes / 1024**3
    p = PRICES
    return [
        ("API Gateway REST requests", f"{MILLION:,}", MILLION * p["api_gateway_rest_request"]),
        ("Lambda requests, API", f"{MILLION:,}", MILLION * p["lambda_request"]),
        (
            f"Lambda compute, API ({accept['memory_mb']} MB)",
            f"{api_gb_s:,.0f} GB-s",
            api_gb_s * p["lambda_gb_s"],
        ),
        (
            "Lambda requests, process_payments",
            f"{drain_invocations:,.0f}",
            drain_invocations * p["lambda_request"],
        ),
        (
            f"Lambda compute, process_payments ({drain['memory_mb']} MB)",
            f"{drain_gb_s:,.0f} GB-s",
            drain_gb_s * p["lambda_gb_s"],
        ),
        ("Aurora Serverless v2 ACU-hours", f"{acu_hours:,.2f} ACU-h", acu_hours * p["acu_h"]),
        ("ElastiCache Serverless ECPUs", f"{commands:,.0f} ECPU", commands * p["elasticache_ecpu"]),
        (
            "KMS requests",
            f"{KMS_REQUESTS_PER_PAYMENT * MILLION:,}",
            KMS_REQUESTS_PER_PAYMENT * MILLION * p["kms_request"],
        ),
        ("CloudWatch Logs ingestion", f"{log_gb:,.3f} GB", log_gb * p["cloudwatch_log_gb"]),
    ]


def total(figures: dict[str, dict[str, Any]]) -> float:
    return sum(usd for _, _, usd in rows(figures))


def table(figures: dict[str, dict[str, Any]]) -> str:
    """The Markdown table docs/deploy.md quotes."""
    lines = ["| part | per million payments | USD |", "|---|---|---|"]
    lines += [f"| {part} | {quantity} | {usd:.4f} |" for part, quantity, usd in rows(figures)]
    lines.append(f"| **total** | | **{total(figures):.2f}** |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(table(load(Path(sys.argv[1]))))
