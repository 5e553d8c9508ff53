"""Parse a request body's JSON so that no input can reach a 500 (docs/api.md, Conventions).

Three things the standard parser lets through, each refused here as a 400:
- nesting deeper than any request model needs: CPython's parser recurses once per
  level, and a body of 10,000 `[` raises RecursionError (a 500) before it can say
  the JSON is malformed. The depth is counted on the raw bytes before parsing, and
  only when the body holds enough brackets to be that deep, so a normal body pays
  two `bytes.count` calls;
- a NUL character (`\\u0000`) or a lone surrogate (`\\ud800` not half of a pair),
  which Postgres text cannot store (a surrogate is not a Unicode scalar value, so it
  has no UTF-8 form): any string or key holding one is refused with the field as
  `param`, before validation;
- integers too long to be an amount: parsed as infinity, so that the model refuses
  them as "not a valid integer" with the field as `param`, instead of Python's
  4,300-digit limit turning them into a bare parse error.
"""

from __future__ import annotations

import json
import re
from typing import Any

from chalicelib.errors import InvalidJsonError, InvalidRequestError

#: The deepest body a request model takes is 2 levels (`card`, `metadata`); 32 leaves room.
MAX_DEPTH = 32
#: More digits than any integer field accepts (amounts have at most 11).
MAX_INT_DIGITS = 19

_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(rb"[\[\]{}]")
_NUL_ESCAPE = b"\\u0000"
# Raw UTF-8 cannot encode a surrogate (the strict decode refuses it), so one can only
# come from a `\\uD800`-`\\uDFFF` escape; a pair of them decodes to one character.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89abcdefABCDEF]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_SURROGATE_OR_NUL = re.compile("[\x00\ud800-\udfff]")


def _reject_constant(name: str) -> Any:
    raise ValueError(name)


def _parse_int(text: str) -> int | float:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        return float("-inf") if text.startswith("-") else float("inf")
    return int(text)


def too_deep(raw: bytes, limit: int = MAX_DEPTH) -> bool:
    """Whether the JSON text nests arrays/objects deeper than `limit` (strings ignored)."""
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False
    depth = 0
    for match in _BRACKET.finditer(_STRING.sub(b'""', raw)):
        if match.group() in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def _unstorable(text: str) -> bool:
    """Whether the string holds NUL or a lone surrogate (not a Unicode scalar value)."""
    if "\x00" in text:
        return True
    return not text.isascii() and _SURROGATE.search(text) is not None


def _escaped(key: str) -> str:
    """A key as it can be named in an answer: NUL and lone surrogates as `\\uXXXX`."""
    return _SURROGATE_OR_NUL.sub(lambda m: f"\\u{ord(m.group()):04x}", key)


def _bad_path(value: Any, path: tuple[str, ...] = ()) -> tuple[str, ...] | None:
    """The key path to the first string (or key) that cannot be stored, or None."""
    if isinstance(value, str):
        return path if _unstorable(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            here = (*path, _escaped(key))
            if _unstorable(key):
                return here
            found = _bad_path(item, here)
            if found is not None:
                return found
    elif isinstance(value, list):
        for item in value:
            found = _bad_path(item, path)
            if found is not None:
                return found
    return None


#: Made once: `json.loads` with hooks builds a decoder and its scanner on every call.
_DECODER = json.JSONDecoder(parse_constant=_reject_constant, parse_int=_parse_int)


def loads(raw: bytes) -> Any:
    """The body's JSON value; InvalidJsonError or InvalidRequestError (400) otherwise."""
    if too_deep(raw):
        raise InvalidJsonError(f"The request body is nested deeper than {MAX_DEPTH} levels.")
    try:
        value = _DECODER.decode(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise InvalidJsonError("The request body is not valid JSON.") from exc
    if _NUL_ESCAPE in raw or _SURROGATE_ESCAPE.search(raw):
        path = _bad_path(value)
        if path is not None:
            param = ".".join(path) or None
            raise InvalidRequestError(
                f"{param or 'The body'} must hold only Unicode characters: no NUL, and no"
                " surrogate escape (\\ud800-\\udfff) that is not half of a pair",
                param=param,
            )
    return value
