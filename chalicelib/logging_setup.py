"""One JSON object per log line, on stdout (CloudWatch Logs on AWS).

Locally, a process may be given LOG_FILE (`make run` gives it to its scheduler): its
records then go to that file, rotated, and only warnings and errors also to stderr, so
the console stays readable. Lines that are metrics (EMF) or summaries go to the file
too (`write_line`). On AWS LOG_FILE is unset and every line goes to stdout, exactly as
CloudWatch needs it.
"""

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


_file_handler: logging.Handler | None = None
#: the rotated log file's size and how many old files are kept
LOG_FILE_BYTES = 5 * 1024 * 1024
LOG_FILE_BACKUPS = 3


def _log_file() -> logging.Handler | None:
    """The rotating handler of LOG_FILE, made on first use (None without LOG_FILE)."""
    global _file_handler
    path = os.environ.get("LOG_FILE")
    if not path:
        return None
    if _file_handler is None:
        from logging.handlers import RotatingFileHandler
        from pathlib import Path

        Path(path).parent.mkdir(parents=True, exist_ok=True)
        handler = RotatingFileHandler(
            path, maxBytes=LOG_FILE_BYTES, backupCount=LOG_FILE_BACKUPS, encoding="utf-8"
        )
        handler.setFormatter(logging.Formatter("%(message)s"))
        _file_handler = handler
    return _file_handler


def write_line(line: str) -> None:
    """One already-formatted line (an EMF metrics line, a summary): to LOG_FILE when set,
    else to the log stream."""
    handler = _log_file()
    if handler is None:
        stream = log_stream()
        stream.write(line + "\n")
        stream.flush()
        return
    handler.emit(logging.makeLogRecord({"msg": line, "levelno": logging.INFO}))


def configure_logging(level: str = "INFO") -> None:
    """Send every gateway log record as JSON to stdout, or to LOG_FILE with warnings also
    on stderr (idempotent)."""
    global _configured
    if _configured:
        return
    to_file = _log_file() is not None
    console = logging.StreamHandler(sys.stderr if to_file else log_stream())
    console.setFormatter(JsonFormatter())
    handlers: list[logging.Handler] = [console]
    if to_file:
        console.setLevel(logging.WARNING)  # the rest goes to the file only
        handlers.append(_JsonToFile())
    for name in ("gateway", "chalicelib", "workers"):
        logger = logging.getLogger(name)
        logger.handlers = list(handlers)
        logger.setLevel(level)
        logger.propagate = False
    _configured = True


class _JsonToFile(logging.Handler):
    """Records as JSON lines, through the shared rotating file handler (`write_line`)."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(JsonFormatter())

    def emit(self, record: logging.LogRecord) -> None:
        write_line(self.format(record))
