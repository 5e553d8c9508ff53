"""What the app expects in the AWS emulator: secrets, the KMS key, the reports bucket."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

from infra.stack_base import STACK_DIR


def create_reconciliation_bucket(env: dict[str, str]) -> None:
    """The S3 bucket reconciliation reports go to (RECONCILIATION_BUCKET)."""
    import boto3

    s3 = boto3.client(
        "s3",
        endpoint_url=env["AWS_ENDPOINT_URL"],
        region_name=env["AWS_DEFAULT_REGION"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    )
    bucket = env.get("RECONCILIATION_BUCKET", "gateway-reconciliation")
    try:
        s3.create_bucket(Bucket=bucket)
    except (s3.exceptions.BucketAlreadyOwnedByYou, s3.exceptions.BucketAlreadyExists):
        pass


IDEMPOTENCY_HMAC_SECRET = "gateway/local/idempotency-hmac-key"  # noqa: S105 - a secret's name
WEBHOOK_KEY_ALIAS = "alias/gateway-local-webhook-secrets"


API_KEY_HMAC_SECRET = "gateway/local/api-key-hmac-key"  # noqa: S105 - a secret's name


def _local_hmac_key(existing: str | None, name: str = "idempotency-hmac.key") -> str:
    """One of this stack's HMAC keys (idempotency fingerprints, or API-key hashes: two
    keys, never one), generated once and kept under .stack/ (0600), so that what it
    made stays comparable across restarts of the emulator. A key the emulator already
    holds is kept (the Docker path has no .stack/ of its own)."""
    import secrets

    path = STACK_DIR / name
    if path.exists():
        return path.read_text().strip()
    key = existing or secrets.token_urlsafe(48)
    _write_private(path, key + "\n")
    return key


def _write_private(path: Path, text: str) -> None:
    STACK_DIR.mkdir(exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)


def local_webhook_key() -> dict[str, str]:
    """The webhook secrets' KMS key of this stack: its id and its 256-bit material,
    generated once and kept under .stack/ (0600). The emulators keep keys in memory
    only; made again from this file with the same id and material, the key opens every
    secret sealed before the restart (Postgres keeps those)."""
    import secrets
    import uuid

    path = STACK_DIR / "webhook-kms-key.json"
    if not path.exists():
        key = {
            "key_id": str(uuid.uuid4()),
            "material": base64.b64encode(secrets.token_bytes(32)).decode(),
        }
        try:
            _write_private(path, json.dumps(key) + "\n")
        except FileExistsError:  # another stack start wrote it first
            pass
    return dict(json.loads(path.read_text()))


def _ensure_webhook_key(kms: Any) -> str:
    """The id of the key behind WEBHOOK_KEY_ALIAS, made from `local_webhook_key()` when
    the emulator has none. moto honours the tags through infra/aws_emulator.py,
    LocalStack natively."""
    try:
        return str(kms.describe_key(KeyId=WEBHOOK_KEY_ALIAS)["KeyMetadata"]["KeyId"])
    except kms.exceptions.NotFoundException:
        pass
    spec = local_webhook_key()
    try:
        key_id = kms.describe_key(KeyId=spec["key_id"])["KeyMetadata"]["KeyId"]
    except kms.exceptions.NotFoundException:
        key_id = kms.create_key(
            Description="webhook signing secrets (local stack)",
            Tags=[
                {"TagKey": "_custom_id_", "TagValue": spec["key_id"]},
                {"TagKey": "_custom_key_material_", "TagValue": spec["material"]},
            ],
        )["KeyMetadata"]["KeyId"]
    try:
        kms.create_alias(AliasName=WEBHOOK_KEY_ALIAS, TargetKeyId=key_id)
    except kms.exceptions.AlreadyExistsException:  # another stack start won the race
        key_id = kms.describe_key(KeyId=WEBHOOK_KEY_ALIAS)["KeyMetadata"]["KeyId"]
    return str(key_id)


def bootstrap_emulator(env: dict[str, str]) -> dict[str, str]:
    """Create what the app expects in the AWS emulator: the connection-URL secrets, the
    HMAC keys' secrets (idempotency, API-key hashes) and the webhook secrets' KMS key.
    Returns the settings that name them (IDEMPOTENCY_HMAC_SECRET_ID,
    API_KEY_HMAC_SECRET_ID, WEBHOOK_SECRETS_KMS_KEY_ID)."""
    import boto3

    session = boto3.session.Session(
        region_name=env["AWS_DEFAULT_REGION"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    )
    client = session.client("secretsmanager", endpoint_url=env["AWS_ENDPOINT_URL"])
    existing: dict[str, str | None] = {}
    for name in (IDEMPOTENCY_HMAC_SECRET, API_KEY_HMAC_SECRET):
        try:
            existing[name] = client.get_secret_value(SecretId=name)["SecretString"]
        except client.exceptions.ResourceNotFoundException:
            existing[name] = None
    for name, value in (
        ("gateway/local/database-url", env["DATABASE_URL"]),
        ("gateway/local/redis-url", env["REDIS_URL"]),
        (IDEMPOTENCY_HMAC_SECRET, _local_hmac_key(existing[IDEMPOTENCY_HMAC_SECRET])),
        (
            API_KEY_HMAC_SECRET,
            _local_hmac_key(existing[API_KEY_HMAC_SECRET], "api-key-hmac.key"),
        ),
    ):
        try:
            client.create_secret(Name=name, SecretString=value)
        except client.exceptions.ResourceExistsException:
            client.put_secret_value(SecretId=name, SecretString=value)
    create_reconciliation_bucket(env)
    kms = session.client("kms", endpoint_url=env["AWS_ENDPOINT_URL"])
    key_id = _ensure_webhook_key(kms)
    return {
        "IDEMPOTENCY_HMAC_SECRET_ID": IDEMPOTENCY_HMAC_SECRET,
        "API_KEY_HMAC_SECRET_ID": API_KEY_HMAC_SECRET,
        "WEBHOOK_SECRETS_KMS_KEY_ID": key_id,
    }
