"""Reports written to S3 (the local AWS emulator in local and test stages).

The bucket is the setting RECONCILIATION_BUCKET; the stack's bootstrap creates it on the
emulator. The client is built on first use (boto3 is slow to import) and cached.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from chalicelib import settings

_lock = threading.Lock()
_client: Any = None


def _s3() -> Any:
    global _client
    if _client is None:
        with _lock:
            if _client is None:
                import boto3  # lazy: in the Lambda runtime, not in the zip

                config = settings.get_settings()
                _client = boto3.client(
                    "s3",
                    region_name=config.aws_default_region,
                    endpoint_url=config.aws_endpoint_url,
                )
    return _client


def put_json(key: str, document: dict[str, Any]) -> dict[str, str]:
    """Store `document` as JSON under `key`; returns where it went."""
    bucket = settings.get_settings().reconciliation_bucket
    body = json.dumps(document, separators=(",", ":"), sort_keys=True).encode()
    _s3().put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/json")
    return {"bucket": bucket, "key": key}


def get_json(key: str) -> dict[str, Any]:
    """Read a JSON report back (operators and tests)."""
    bucket = settings.get_settings().reconciliation_bucket
    body = _s3().get_object(Bucket=bucket, Key=key)["Body"].read()
    document: dict[str, Any] = json.loads(body)
    return document
