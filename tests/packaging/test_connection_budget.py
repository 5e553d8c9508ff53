"""The packaged template's connection budget: what the functions may hold at once fits in
RDS Proxy's share of the database's `max_connections` (docs/deploy.md, "Scale-out").

- Aurora PostgreSQL's default `max_connections` is LEAST(DBInstanceClassMemory/9531392,
  5000); Serverless v2 sizes it from the cluster's maximum capacity, 2 GiB per ACU (an
  upper bound of the instance memory, so this is the most it can be).
- The proxy opens at most `MaxConnectionsPercent` of it.
- psycopg's server-side prepared statements pin proxy sessions, so every client
  connection is counted as a database connection: a function's pool size (its
  `DB_POOL_MAX_SIZE`) times the copies that can run at once. `process_payments` is
  capped by its reserved concurrency; a scheduled function without one by its timeout
  over its rate (runs that can overlap); what is left is the API's, whose concurrency the
  template does not cap: the document states how many API environments that allows.
"""

from __future__ import annotations

import math
import re
from typing import Any

from tests.lambda_function import FunctionSpec, functions
from tests.packaging.conftest import ROOT, Package

BYTES_PER_CONNECTION = 9531392
MAX_CONNECTIONS_CAP = 5000
GIB_PER_ACU = 2
RATE = re.compile(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)")
SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


def max_connections(acu: float) -> int:
    return min(int(acu * GIB_PER_ACU * 1024**3 // BYTES_PER_CONNECTION), MAX_CONNECTIONS_CAP)


def _parameter(sam: dict[str, Any], value: Any, key: str = "Default") -> Any:
    if isinstance(value, dict) and "Ref" in value:
        return sam["Parameters"][value["Ref"]][key]
    return value


def _overlapping_runs(sam: dict[str, Any], spec: FunctionSpec) -> int:
    """Copies of a scheduled function that can run at once: its timeout over its rate."""
    events = sam["Resources"][spec.logical_id]["Properties"].get("Events") or {}
    periods = []
    for event in events.values():
        found = RATE.fullmatch(event["Properties"]["Schedule"])
        assert found, event
        periods.append(int(found.group(1)) * SECONDS[found.group(2).rstrip("s")])
    return math.ceil(spec.timeout_s / min(periods)) if periods else 1


def budget(sam: dict[str, Any], max_acu: float) -> dict[str, int]:
    pool_config = sam["Resources"]["DatabaseProxyTargetGroup"]["Properties"]
    percent = pool_config["ConnectionPoolConfigurationInfo"]["MaxConnectionsPercent"]
    share = max_connections(max_acu) * percent // 100
    held = 0
    specs = functions(sam)
    for name, spec in specs.items():
        if name == "app":
            continue
        copies = _parameter(sam, spec.reserved_concurrency) or _overlapping_runs(sam, spec)
        held += int(spec.variables["DB_POOL_MAX_SIZE"]) * int(copies)
    api_pool = int(specs["app"].variables["DB_POOL_MAX_SIZE"])
    return {"share": share, "held": held, "api_environments": (share - held) // api_pool}


def test_the_batch_and_scheduled_functions_fit_at_the_default_and_smallest_capacity(
    package: Package,
) -> None:
    sam = package.sam
    capacity = sam["Parameters"]["DatabaseMaxCapacity"]
    for acu in (capacity["Default"], capacity["MinValue"]):
        figures = budget(sam, acu)
        assert figures["held"] <= figures["share"], (acu, figures)
        assert figures["api_environments"] >= 10, (acu, figures)


def test_the_document_states_the_template_s_arithmetic(package: Package) -> None:
    sam = package.sam
    figures = budget(sam, sam["Parameters"]["DatabaseMaxCapacity"]["Default"])
    text = (ROOT / "docs" / "deploy.md").read_text()
    stated = (
        f"{figures['share']} connections for the proxy, {figures['held']} held by the "
        f"batch and scheduled functions, room for {figures['api_environments']} API "
        "environments"
    )
    assert stated in " ".join(text.split()), stated
