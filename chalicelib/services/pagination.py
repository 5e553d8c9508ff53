"""Cursor pagination shared by every list: newest first, `limit` and `starting_after`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from chalicelib.errors import InvalidRequestError

Cursor = tuple[datetime, str]


def page[T](
    starting_after: str | None,
    limit: int,
    noun: str,
    find_cursor: Callable[[str], Cursor | None],
    fetch: Callable[[Cursor | None, int], list[dict[str, Any]]],
    render: Callable[[dict[str, Any]], T],
) -> tuple[list[T], bool]:
    """One page and whether more follow. An unknown `starting_after` is a 400 naming it.

    `fetch(after, n)` returns up to n rows older than the cursor; one more than the
    limit is asked for, to learn `has_more` without a count.
    """
    after = None
    if starting_after is not None:
        after = find_cursor(starting_after)
        if after is None:
            raise InvalidRequestError(f"No such {noun}: '{starting_after}'", param="starting_after")
    rows = fetch(after, limit + 1)
    return [render(r) for r in rows[:limit]], len(rows) > limit
