"""Bounds on JSON input, checked before anything recurses into it.

Python's json module and every walk over a parsed value recurse once per level: `spec` or
`schema` nested 5,000 deep raised RecursionError, and the API answered 500. The text is scanned
for its depth first, in one linear pass without recursion, so a value that is too deep is never
parsed; a value that arrives already parsed (a JSON request body) is walked iteratively. Both
also bound the number of values, so a flat but huge object cannot cost what a deep one would.

Pure Python, no Django: the serializers, forms and services wrap `JSONBoundsError` in their own
error type, naming their field.
"""

from __future__ import annotations

import json
import math
import re

MAX_JSON_DEPTH = 20
MAX_JSON_VALUES = 100_000
MAX_JSON_CHARS = 1024 * 1024

TOO_DEEP = "Nested more than {limit} levels deep (arrays and objects); the limit is {limit}."
TOO_MANY = "More than {limit:,} values; the limit is {limit:,}."
TOO_LONG = "{size:,} characters of JSON; the limit is {limit:,}."
NOT_JSON = "Not valid JSON: {error}."
NOT_FINITE = "NaN and Infinity are not accepted (they are not JSON numbers)."

# A string (with its escapes), or one of the characters that open or close a level.
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


class JSONBoundsError(ValueError):
    """The message says what is wrong and what is accepted; `key` is the top-level key it sits under."""

    def __init__(self, message: str, *, key: str | None = None):
        super().__init__(message)
        self.message = message
        self.key = key


def json_text_check(text: str | bytes, *, max_depth: int = MAX_JSON_DEPTH,
                    max_chars: int = MAX_JSON_CHARS) -> None:
    """Refuse JSON text longer than `max_chars` or nested deeper than `max_depth`, without parsing it."""
    if isinstance(text, (bytes, bytearray)):
        text = bytes(text).decode("utf-8", errors="replace")
    if len(text) > max_chars:
        raise JSONBoundsError(TOO_LONG.format(size=len(text), limit=max_chars))
    depth = 0
    key = None  # the last string seen at depth 1: the top-level key a deep value sits under
    for match in _TOKEN.finditer(text):
        token = match.group()
        if token[0] == '"':
            if depth == 1:
                key = token
            continue
        if token in "[{":
            depth += 1
            if depth > max_depth:
                raise JSONBoundsError(TOO_DEEP.format(limit=max_depth), key=_unquote(key))
        else:
            depth -= 1


def json_value_check(value, *, max_depth: int = MAX_JSON_DEPTH, max_values: int = MAX_JSON_VALUES) -> None:
    """Refuse an already parsed value nested deeper than `max_depth`, holding more than `max_values`, or
    holding NaN or Infinity (Python's json reads them; PostgreSQL's jsonb and the trail's hashes do not)."""
    count = 0
    stack = [(value, 0, None)]
    while stack:
        item, depth, key = stack.pop()
        count += 1
        if count > max_values:
            raise JSONBoundsError(TOO_MANY.format(limit=max_values), key=key)
        if isinstance(item, dict):
            children = item.items()
        elif isinstance(item, (list, tuple)):
            children = enumerate(item)
        else:
            if isinstance(item, float) and not math.isfinite(item):
                raise JSONBoundsError(NOT_FINITE, key=key)
            continue
        if depth + 1 > max_depth:
            raise JSONBoundsError(TOO_DEEP.format(limit=max_depth), key=key)
        for child_key, child in children:
            stack.append((child, depth + 1, key if depth else str(child_key)))


def json_loads_bounded(text: str | bytes, *, max_depth: int = MAX_JSON_DEPTH, max_chars: int = MAX_JSON_CHARS,
                       max_values: int = MAX_JSON_VALUES):
    """json.loads after the text's bounds are checked; the parsed value's size is checked too."""
    json_text_check(text, max_depth=max_depth, max_chars=max_chars)
    try:
        value = json.loads(text)
    except (ValueError, RecursionError) as exc:  # RecursionError only if max_depth was set above ~900
        raise JSONBoundsError(NOT_JSON.format(error=exc)) from None
    json_value_check(value, max_depth=max_depth, max_values=max_values)
    return value


def _unquote(token: str | None) -> str | None:
    if token is None:
        return None
    try:
        return json.loads(token)
    except ValueError:
        return token.strip('"')
