"""How durable the local stack's data is, and who may lower it.

`make run` keeps what it accepted: its Postgres runs with `fsync`,
`full_page_writes` and `synchronous_commit` on (a 202 means the payment's commit
reached the disk), and its Redis appends every write to an AOF flushed every
second (`appendfsync everysec`).

The stack is shared: `make run`, `make test` and `make bench` use one Postgres
server (a database each) and one Redis server (a db number each), whichever
started it. So what is per server stays durable for everyone: `fsync` and
`full_page_writes` (turning them off risks a corrupt cluster after an OS crash,
which would take `make run`'s data with it) and Redis' AOF. What the test and
bench stacks may turn off is per database: `synchronous_commit`, set with
`ALTER DATABASE`. A crash then loses at most the last few hundred milliseconds of
their commits and never corrupts anything, and their commits stop waiting for the
disk, which is the cost that matters to them. They say so in a log line.
"""

from __future__ import annotations

from collections.abc import Callable

POSTGRES_DURABLE_OPTIONS = "-c fsync=on -c full_page_writes=on -c synchronous_commit=on"
REDIS_DURABLE_ARGS = ["--appendonly", "yes", "--appendfsync", "everysec"]


def apply(
    *,
    mode: str,
    database_base_url: str,
    database: str,
    redis_url: str,
    durable: bool,
    log: Callable[[str], None],
) -> None:
    """Set `database`'s commit durability; for a durable run, check the servers' own settings.

    `mode` is the stack's: "local" and "docker" servers are ours to set, check and fix;
    "given" ones (URLs from the environment) are the user's, left as they are.
    """
    import psycopg

    if mode == "given":
        log("durability: the servers given by URL are used as they are configured")
        return
    with psycopg.connect(f"{database_base_url}/postgres", autocommit=True) as conn:
        if not durable:
            conn.execute(f'ALTER DATABASE "{database}" SET synchronous_commit = off')
            log(
                f"durability OFF for database {database}: synchronous_commit=off, so a crash "
                "may lose its last commits (test and bench stacks only; the server keeps "
                "fsync on and Redis its AOF)"
            )
            return
        conn.execute(f'ALTER DATABASE "{database}" RESET synchronous_commit')
        fsync = conn.execute("SHOW fsync").fetchone()
    if fsync is None or fsync[0] != "on":
        raise SystemExit(
            "[stack] the PostgreSQL of this stack runs with fsync off (started by an older "
            "stack?): stop it with `make stack-down`, then try again"
        )
    _redis_aof_on(redis_url, log)
    log(f"durable: database {database} with fsync and synchronous_commit on, Redis AOF everysec")


def _redis_aof_on(redis_url: str, log: Callable[[str], None]) -> None:
    """Turn the AOF on in a Redis started without it (an older stack); a no-op otherwise."""
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        if client.config_get("appendonly").get("appendonly") != "yes":
            log("Redis was running without its AOF: turning it on (appendfsync everysec)")
            client.config_set("appendfsync", "everysec")
            client.config_set("appendonly", "yes")
    finally:
        client.close()
