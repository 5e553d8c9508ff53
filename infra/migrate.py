"""`python -m infra.migrate`: apply the SQL migrations (`chalicelib/migrations/`), once each.

The runner and the files live in the runtime package (`chalicelib.migrations`); this is
its command line, reading the running stack's settings when the environment has none.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from chalicelib.migrations import MIGRATIONS_DIR, migrate, migration_files  # noqa: F401


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
