"""Events as AWS sends them to the functions, and what a process holds open.

`rest_event`: API Gateway's REST API (v1) proxy integration event, the format Chalice
expects. `scheduled_event`: EventBridge's scheduled event (a rule's `rate(...)`).
`tcp_peer_ports(pid)`: the remote ports of a process's established TCP connections.
"""

from __future__ import annotations

import json
import os
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


def rest_event(
    method: str,
    resource: str,
    path: str,
    *,
    api_key: str | None = None,
    body: Any = None,
    path_params: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    sent = {"Host": "api.example.com", "X-Forwarded-Proto": "https", **(headers or {})}
    if api_key is not None:
        sent["Authorization"] = f"Bearer {api_key}"
    if body is not None:
        sent["Content-Type"] = "application/json"
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": sent,
        "multiValueHeaders": {k: [v] for k, v in sent.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": path_params,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": resource,
            "httpMethod": method,
            "path": "/api" + path,
            "stage": "api",
            "requestId": str(uuid.uuid4()),
            "apiId": "abc123",
            "accountId": "123456789012",
            "protocol": "HTTP/1.1",
            "identity": {"sourceIp": "203.0.113.7"},
        },
        "body": None if body is None else json.dumps(body),
        "isBase64Encoded": False,
    }


def create_payment_event(api_key: str, order_id: str, amount: int = 50000) -> dict[str, Any]:
    body = {
        "order_id": order_id,
        "amount": amount,
        "currency": "INR",
        "method": "upi",
        "vpa": "success@upi",
    }
    return rest_event(
        "POST",
        "/api/v1/payments",
        "/api/v1/payments",
        api_key=api_key,
        body=body,
        headers={"Idempotency-Key": f"idem_{order_id}"},
    )


def scheduled_event(rule: str, region: str = "us-east-1") -> dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [f"arn:aws:events:{region}:123456789012:rule/{rule}"],
        "detail": {},
    }


def tcp_peer_ports(pid: int) -> set[int]:
    """Remote ports of the established TCP connections that `pid` holds."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    ports = set()
    for table in ("tcp", "tcp6"):
        path = Path(f"/proc/{pid}/net/{table}")
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "01" and fields[9] in inodes:  # ESTABLISHED
                ports.add(int(fields[2].rsplit(":", 1)[1], 16))
    return ports
