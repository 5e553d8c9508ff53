"""The settings' values from the process environment, as pydantic-settings read them.

`Settings` is a plain pydantic model: pydantic-settings cost 45-65 ms of imports on
the first request of a cold start (its sources import, among others, dotenv and
pydantic's dataclasses), for what this module does. Each field is read from the
environment variable of its name, in any case (`BATCH_SIZE` or `batch_size`); a field
of a container type (list, dict, set, tuple, alone or in a union with None) is given as
JSON text, every other one as text that pydantic converts as it validates.
"""

from __future__ import annotations

import json
import types
import typing
from collections.abc import Mapping
from typing import Any

from pydantic.fields import FieldInfo

CONTAINERS = (list, dict, set, frozenset, tuple)


class SettingsSourceError(ValueError):
    """A variable that cannot be read as its field's type (names it, never its value)."""


def is_container(annotation: Any) -> bool:
    """Whether a field of this type is given as JSON text."""
    origin = typing.get_origin(annotation)
    if origin in CONTAINERS or annotation in CONTAINERS:
        return True
    if origin in (typing.Union, types.UnionType):
        return any(is_container(arg) for arg in typing.get_args(annotation))
    return False


def from_environment(fields: Mapping[str, FieldInfo], environ: Mapping[str, str]) -> dict[str, Any]:
    """{field: raw value} for every field whose variable is set."""
    by_name = {name.lower(): value for name, value in environ.items()}
    values: dict[str, Any] = {}
    for name, field in fields.items():
        if name not in by_name:
            continue
        raw = by_name[name]
        if is_container(field.annotation):
            try:
                values[name] = json.loads(raw)
            except ValueError:
                raise SettingsSourceError(f"{name.upper()} must be JSON") from None
        else:
            values[name] = raw
    return values
