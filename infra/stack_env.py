"""The running stack's connection settings, in a git-ignored file, for commands run later.

Every stack start (`python -m infra.stack run` and `up`, so `make run`, `make test`,
`make bench`) writes its settings to `.stack/<database>.env`: DATABASE_URL, REDIS_URL,
AWS_ENDPOINT_URL, the region, the emulator's dummy credentials, and ACQUIRER_URL when
set. `workers.admin`, `workers.scheduler` and `infra.migrate` call `load()` first: when
the environment names no database, they take the settings of the `make run` stack
(`.stack/gateway.env`), or of the file that GATEWAY_STACK_ENV names. So their commands
work from any shell in the repository root while `make run` is going. `infra.stack
down` (`make stack-down`) deletes the files, as a `run` deletes its own when it stops
the services it started.
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STACK_DIR = ROOT / ".stack"
DEFAULT_DATABASE = "gateway"
KEYS = (
    "DATABASE_URL",
    "REDIS_URL",
    "AWS_ENDPOINT_URL",
    "AWS_DEFAULT_REGION",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "ACQUIRER_URL",
    "IDEMPOTENCY_HMAC_SECRET_ID",
    "API_KEY_HMAC_SECRET_ID",
    "WEBHOOK_SECRETS_KMS_KEY_ID",
)
HEADER = "# written by infra/stack.py; read by workers.admin, workers.scheduler, infra.migrate"


def path_for(database: str) -> Path:
    """The settings file of the stack serving `database`."""
    return STACK_DIR / f"{database}.env"


def write(database: str, env: dict[str, str]) -> Path:
    """Write the stack's settings (only connection settings: no secrets of any merchant)."""
    path = path_for(database)
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [f"{key}={env[key]}" for key in KEYS if env.get(key)]
    tmp = path.with_suffix(".tmp")
    tmp.write_text(HEADER + "\n" + "\n".join(lines) + "\n")
    tmp.replace(path)  # readers never see half a file
    return path


def remove_all(stack_dir: Path | None = None) -> list[Path]:
    """Delete every settings file a stack start wrote (`infra.stack down`), so that no
    command reads the settings of services that are gone. Files of other origin stay."""
    removed = []
    for path in sorted((stack_dir or STACK_DIR).glob("*.env")):
        with path.open() as f:
            if f.readline().rstrip("\n") != HEADER:
                continue
        path.unlink(missing_ok=True)
        removed.append(path)
    return removed


def read(path: Path) -> dict[str, str]:
    """KEY=value lines; comments and blank lines ignored."""
    values: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            values[key.strip()] = value.strip()
    return values


def load(environ: os._Environ[str] | dict[str, str] = os.environ) -> Path | None:
    """Fill the environment from the stack's file when it names no database.

    Variables already set win. Returns the file used, or None when none was needed or
    none exists (the command then says what is missing, as before).
    """
    if environ.get("DATABASE_URL") or environ.get("DATABASE_SECRET_ID"):
        return None
    named = environ.get("GATEWAY_STACK_ENV")
    path = Path(named) if named else path_for(DEFAULT_DATABASE)
    if not path.is_absolute():
        path = ROOT / path
    if not path.exists():
        return None
    for key, value in read(path).items():
        environ.setdefault(key, value)
    return path
