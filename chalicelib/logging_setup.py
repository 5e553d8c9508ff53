"""One JSON object per log line, on stdout (CloudWatch Logs on AWS)."""

from __future__ import annotations

import json
import logging
import os
import sys
from typing import TextIO

from chalicelib.clock import isoformat, utcnow

_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": isoformat(utcnow()),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


_configured = False


def log_stream() -> TextIO:
    """stdout (CloudWatch Logs on Lambda), or stderr where LOG_STREAM=stderr (the local
    scheduler, whose stdout carries only its one summary line per handler)."""
    return sys.stderr if os.environ.get("LOG_STREAM") == "stderr" else sys.stdout


def configure_logging(level: str = "INFO") -> None:
    """Send every gateway log record to stdout as JSON (idempotent)."""
    global _configured
    if _configured:
        return
    handler = logging.StreamHandler(log_stream())
    handler.setFormatter(JsonFormatter())
    for name in ("gateway", "chalicelib", "workers"):
        logger = logging.getLogger(name)
        logger.handlers = [handler]
        logger.setLevel(level)
        logger.propagate = False
    _configured = True
