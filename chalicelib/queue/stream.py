"""The Redis stream of work ids: add, claim through the consumer group, ack, dead-letter.

Redis is the fast path only. Postgres holds the truth; the sweep re-adds any
due id whose message was lost, so every function here may fail without losing work.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from chalicelib import redis_keys as keys
from chalicelib.adapters.redis_client import get_redis

log = logging.getLogger(__name__)

# The client decodes replies (decode_responses=True), which redis-py's types cannot
# follow: the casts below state the decoded shape of each reply.


@dataclass(frozen=True)
class StreamEntry:
    stream: str
    entry_id: str
    object_id: str
    deliveries: int = 1


def add(stream: str, object_ids: list[str]) -> None:
    """Append ids to a stream (one round trip for many ids)."""
    if not object_ids:
        return
    client = get_redis()
    if len(object_ids) == 1:
        client.xadd(stream, {"id": object_ids[0]})
        return
    pipe = client.pipeline(transaction=False)
    for object_id in object_ids:
        pipe.xadd(stream, {"id": object_id})
    pipe.execute()


def add_or_leave_to_sweep(
    stream: str, object_id: str, mark_not_enqueued: Callable[[], None]
) -> None:
    """Add one committed id; if Redis fails, `mark_not_enqueued()` so the next sweep takes
    it at once (if that fails too, the sweep still finds it after the visibility timeout).
    """
    import redis  # lazy, as in redis_client

    try:
        add(stream, [object_id])
    except redis.RedisError as exc:
        log.warning(
            "enqueue failed, the sweep will pick the id up",
            extra={"id": object_id, "error": type(exc).__name__},
        )
        try:
            mark_not_enqueued()
        except Exception:
            log.warning("could not mark the id as not enqueued", extra={"id": object_id})


def ensure_group(stream: str, group: str = keys.PROCESSOR_GROUP) -> None:
    """Create the consumer group (and stream) if missing; safe to call every run."""
    import redis  # lazy, as in redis_client

    try:
        get_redis().xgroup_create(stream, group, id="0", mkstream=True)
    except redis.ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise


def _entries(stream: str, raw: list[Any]) -> list[StreamEntry]:
    out = []
    for entry_id, fields in raw:
        if fields is None:  # deleted from the stream while pending
            continue
        out.append(StreamEntry(stream, entry_id, fields.get("id", "")))
    return out


def claim_new(stream: str, consumer: str, count: int) -> list[StreamEntry]:
    """New entries for this consumer (XREADGROUP, no blocking)."""
    result = cast(
        "list[tuple[str, list[tuple[str, dict[str, str] | None]]]]",
        get_redis().xreadgroup(keys.PROCESSOR_GROUP, consumer, {stream: ">"}, count=count),
    )
    if not result:
        return []
    return _entries(stream, result[0][1])


def claim_stale(stream: str, consumer: str, idle_ms: int, count: int) -> list[StreamEntry]:
    """Entries idle past the visibility timeout, taken over from dead consumers."""
    _next, claimed, _deleted = get_redis().xautoclaim(
        stream, keys.PROCESSOR_GROUP, consumer, min_idle_time=idle_ms, start_id="0-0", count=count
    )
    return _entries(stream, claimed)


def delivery_counts(stream: str, entry_ids: list[str]) -> dict[str, int]:
    """How many times each pending entry has been delivered (XPENDING, one call)."""
    if not entry_ids:
        return {}
    lo, hi = min(entry_ids, key=_id_key), max(entry_ids, key=_id_key)
    rows = cast(
        "list[dict[str, Any]]",
        get_redis().xpending_range(
            stream, keys.PROCESSOR_GROUP, min=lo, max=hi, count=len(entry_ids) * 4 + 100
        ),
    )
    wanted = set(entry_ids)
    return {r["message_id"]: r["times_delivered"] for r in rows if r["message_id"] in wanted}


def _id_key(entry_id: str) -> tuple[int, int]:
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)


def ack(stream: str, entry_ids: list[str]) -> None:
    """Acknowledge and delete processed entries (one round trip)."""
    if not entry_ids:
        return
    pipe = get_redis().pipeline(transaction=False)
    pipe.xack(stream, keys.PROCESSOR_GROUP, *entry_ids)
    pipe.xdel(stream, *entry_ids)
    pipe.execute()


def dead_letter(entries: list[StreamEntry], error: str) -> None:
    """Move entries to the dead-letter stream with the error, then ack them."""
    if not entries:
        return
    pipe = get_redis().pipeline(transaction=True)
    for entry in entries:
        pipe.xadd(
            keys.DEAD_LETTER_STREAM,
            {
                "stream": entry.stream,
                "id": entry.object_id,
                "entry_id": entry.entry_id,
                "deliveries": str(entry.deliveries),
                "error": error[:1000],
            },
        )
    by_stream: dict[str, list[str]] = {}
    for entry in entries:
        by_stream.setdefault(entry.stream, []).append(entry.entry_id)
    for stream, entry_ids in by_stream.items():
        pipe.xack(stream, keys.PROCESSOR_GROUP, *entry_ids)
        pipe.xdel(stream, *entry_ids)
    pipe.execute()


def record_error(entry: StreamEntry, error: str) -> None:
    """Remember why an entry failed, for the dead-letter record if it keeps failing."""
    client = get_redis()
    pipe = client.pipeline(transaction=False)
    pipe.hset(keys.entry_errors(entry.stream), entry.entry_id, error[:1000])
    pipe.expire(keys.entry_errors(entry.stream), 7 * 24 * 3600)
    pipe.execute()


def last_errors(stream: str, entry_ids: list[str]) -> dict[str, str]:
    if not entry_ids:
        return {}
    values = cast("list[str | None]", get_redis().hmget(keys.entry_errors(stream), entry_ids))
    return {eid: v for eid, v in zip(entry_ids, values, strict=True) if v}


def pending_summary(stream: str) -> dict[str, Any]:
    """Length, pending count and the oldest pending entry's age, in one round trip."""
    pipe = get_redis().pipeline(transaction=False)
    pipe.xlen(stream)
    pipe.xpending(stream, keys.PROCESSOR_GROUP)
    pipe.xlen(keys.DEAD_LETTER_STREAM)
    length, pending, dead = pipe.execute()
    oldest_age = None
    if pending and pending.get("pending"):
        ms = int(str(pending["min"]).split("-")[0])
        oldest_age = round(max(0.0, time.time() - ms / 1000), 3)
    return {
        "length": length,
        "pending": (pending or {}).get("pending", 0),
        "oldest_pending_age_s": oldest_age,
        "dead_letters": dead,
    }


def list_dead_letters(count: int = 100) -> list[dict[str, str]]:
    rows = cast(
        "list[tuple[str, dict[str, str]]]", get_redis().xrange(keys.DEAD_LETTER_STREAM, count=count)
    )
    return [{"dead_letter_id": entry_id, **fields} for entry_id, fields in rows]


def delete_dead_letters(dead_letter_ids: list[str]) -> None:
    if dead_letter_ids:
        get_redis().xdel(keys.DEAD_LETTER_STREAM, *dead_letter_ids)
