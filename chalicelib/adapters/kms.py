"""Envelope encryption of webhook signing secrets under a KMS key.

`seal` asks KMS for a fresh 256-bit data key (`GenerateDataKey`, the API's only KMS
grant), encrypts the secret with it locally and keeps only the encrypted data key
beside the ciphertext. `open_sealed` has KMS decrypt the data key (`Decrypt`,
deliver_webhooks' only KMS grant) and decrypts the secret.

The local cipher is AES-256-GCM (`cryptography`), with a random 96-bit nonce and the
encryption context as associated data. Each secret has its own data key, used once.

The encryption context binds `purpose` (the grants' condition, infra/aws/functions.py),
the merchant and the endpoint: a sealed secret copied to another endpoint's row does
not decrypt. The same context is authenticated by GCM as associated data.
"""

from __future__ import annotations

import base64
import json
import os
import threading
from typing import Any

PURPOSE = "webhook-signing-secret"
_lock = threading.Lock()
_client: Any = None


class SealedSecretError(Exception):
    """A sealed secret could not be opened (key gone, no grant, wrong context, tampered)."""


def context_for(merchant_id: str, endpoint_id: str) -> dict[str, str]:
    return {"purpose": PURPOSE, "merchant_id": merchant_id, "endpoint_id": endpoint_id}


def _kms() -> Any:
    global _client
    if _client is None:
        with _lock:
            if _client is None:
                import boto3  # lazy: slow to import; in the Lambda runtime, not the zip

                from chalicelib import settings

                cfg = settings.get_settings()
                _client = boto3.client(
                    "kms", region_name=cfg.aws_default_region, endpoint_url=cfg.aws_endpoint_url
                )
    return _client


def _key_id() -> str:
    from chalicelib import settings

    key_id = settings.get_settings().webhook_secrets_kms_key_id
    if not key_id:
        raise RuntimeError("WEBHOOK_SECRETS_KMS_KEY_ID must be set")
    return key_id


def _aad(context: dict[str, str]) -> bytes:
    return json.dumps(context, sort_keys=True, separators=(",", ":")).encode()


def seal(plaintext: bytes, context: dict[str, str]) -> dict[str, Any]:
    """The secret encrypted under a new data key: {"v", "key", "nonce", "ciphertext", "tag"}."""
    data_key = _kms().generate_data_key(
        KeyId=_key_id(), KeySpec="AES_256", EncryptionContext=context
    )
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # lazy: sending only

    nonce = os.urandom(12)
    ciphertext = AESGCM(data_key["Plaintext"]).encrypt(nonce, plaintext, _aad(context))
    return {
        "v": 2,
        "alg": "AES-256-GCM",
        "key": base64.b64encode(data_key["CiphertextBlob"]).decode(),
        "nonce": base64.b64encode(nonce).decode(),
        "ciphertext": base64.b64encode(ciphertext).decode(),
    }


def open_sealed(sealed: dict[str, Any], context: dict[str, str]) -> bytes:
    """The plaintext of `seal`'s result; SealedSecretError when it cannot be opened."""
    from botocore.exceptions import BotoCoreError, ClientError
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    try:
        if sealed.get("v") != 2:
            raise ValueError("unknown sealed-secret version")
        key = _kms().decrypt(
            CiphertextBlob=base64.b64decode(sealed["key"]), EncryptionContext=context
        )["Plaintext"]
        return AESGCM(key).decrypt(
            base64.b64decode(sealed["nonce"]),
            base64.b64decode(sealed["ciphertext"]),
            _aad(context),
        )
    except (ClientError, BotoCoreError, KeyError, ValueError, InvalidTag) as exc:
        raise SealedSecretError(type(exc).__name__) from exc
