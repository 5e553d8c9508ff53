"""`make run`'s local test merchant and operator: the same ones on every start.

Their keys are kept in `.stack/<database>-credentials.json` (git-ignored, mode 0600,
beside the stack's other local secrets) and reused while they still authenticate
against the stack's database; after `make reset` (or with the file gone) new ones are
made and kept. The database holds only their hashes, as for every key. This is the
local stack's convenience for a test-mode merchant, never a production path.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

MERCHANT_NAME = "Local test merchant"
OPERATOR_NAME = "Local operator"


def _still_valid(saved: dict[str, Any]) -> bool:
    from chalicelib import db
    from chalicelib.errors import AuthenticationError
    from chalicelib.services import merchants, operator_keys

    try:
        with db.unit_of_work(write=False) as uow:
            principal = merchants.authenticate(uow.conn, saved["api_key"])
            operator = operator_keys.find_operator(uow.conn, saved["operator_key"])
    except (AuthenticationError, KeyError, TypeError):
        return False
    return principal.merchant_id == saved.get("merchant_id") and operator is not None


def ensure(path: Path) -> dict[str, Any]:
    """The saved credentials if they still work, else new ones (saved); `reused` says."""
    from chalicelib import db
    from chalicelib.services import merchants, operator_keys

    try:
        saved = json.loads(path.read_text())
    except (OSError, ValueError):
        saved = None
    if isinstance(saved, dict) and _still_valid(saved):
        return {**saved, "reused": True}
    with db.unit_of_work() as uow:
        merchant = merchants.create_merchant(uow.conn, MERCHANT_NAME)
        operator = operator_keys.create_operator_key(uow.conn, OPERATOR_NAME)
    made = {
        "merchant_id": merchant.merchant_id,
        "api_key": merchant.api_key,
        "operator_key": operator.operator_key,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as out:
        json.dump(made, out)
    return {**made, "reused": False}
