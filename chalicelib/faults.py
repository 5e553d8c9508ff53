"""Named crash points for fault-injection tests.

`GATEWAY_FAULT_POINT=<name>` makes the process kill itself with SIGKILL when it
reaches that point: a real crash, with no cleanup, at a place chosen by the test.
Ignored in the prod stage.
"""

from __future__ import annotations

import os
import signal

from chalicelib import settings

AFTER_CHARGE = "payments.after_charge"  # processor called, results not committed
AFTER_COMMIT = "payments.after_commit"  # results committed, stream entries not acked
REFUND_AFTER_CALL = "refunds.after_refund"  # processor refunded, results not committed
INQUIRY_AFTER_CALL = "inquiries.after_call"  # connector answered an inquiry, not committed
OPERATION_AFTER_CALL = "operations.after_call"  # captured or voided, not committed


def crash_point(name: str) -> None:
    """SIGKILL this process if the environment names this point (never in prod)."""
    target = os.environ.get("GATEWAY_FAULT_POINT")
    if target == name and settings.get_settings().stage != "prod":
        os.kill(os.getpid(), signal.SIGKILL)
