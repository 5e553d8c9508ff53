"""Apply the SQL migrations in `infra/migrations` in order, once each.

Safe to run twice and from two processes at once: a transaction-scoped advisory
lock serialises runners, and each applied version is recorded in
`schema_migrations` in the same transaction as its SQL.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import psycopg

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_LOCK_ID = 0x6761_7465  # "gate": any constant shared by every runner


def migration_files() -> list[Path]:
    """The migration files, in version order."""
    return sorted(MIGRATIONS_DIR.glob("[0-9][0-9][0-9][0-9]_*.sql"))


def migrate(database_url: str) -> list[str]:
    """Apply pending migrations; returns the versions applied by this call."""
    applied_now: list[str] = []
    with psycopg.connect(database_url, autocommit=True) as conn:
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_ID,))
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            done = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
            for path in migration_files():
                version = path.stem
                if version in done:
                    continue
                conn.execute(path.read_text())
                conn.execute("INSERT INTO schema_migrations (version) VALUES (%s)", (version,))
                applied_now.append(version)
    return applied_now


def main(argv: list[str] | None = None) -> int:
    from infra import stack_env

    stack_env.load()  # the running stack's settings when the environment has none
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    args = parser.parse_args(argv)
    if not args.database_url:
        print("DATABASE_URL is not set", file=sys.stderr)
        return 2
    print(json.dumps({"migrations_applied": migrate(args.database_url)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
