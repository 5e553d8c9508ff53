"""The schema's SQL migrations (the files beside this one) and their runner.

They live in the runtime package, so the zip that `make package` builds carries exactly
the migrations of the code it ships, and the deploy's migration function
(`chalicelib/migration_handler.py`) applies them; `python -m infra.migrate` is the same
runner from the command line.

Safe to run twice and from two processes at once: a transaction-scoped advisory lock
serialises runners, and each applied version is recorded in `schema_migrations` in the
same transaction as its SQL.
"""

from __future__ import annotations

from pathlib import Path

MIGRATIONS_DIR = Path(__file__).resolve().parent
_LOCK_ID = 0x6761_7465  # "gate": any constant shared by every runner


def migration_files() -> list[Path]:
    """The migration files, in version order."""
    return sorted(MIGRATIONS_DIR.glob("[0-9][0-9][0-9][0-9]_*.sql"))


def migrate(database_url: str) -> list[str]:
    """Apply pending migrations; returns the versions applied by this call."""
    import psycopg

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
                conn.execute(path.read_text())  # our own files
                conn.execute("INSERT INTO schema_migrations (version) VALUES (%s)", (version,))
                applied_now.append(version)
    return applied_now
