"""JSON bodies that repeat a key in an object are refused (422 naming the key): parsers keep
the last value silently, so `{"value": 1, "value": 2}` would mean whatever the reader's parser
chose. jiter (the pydantic team's parser, the one inside pydantic) finds repeats in one pass;
the slower walk that names where the repeat is runs only for a body that has one.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import jiter

from service.errors import ValidationFailed, invalid


class _Pairs(list[tuple[str, Any]]):
    """An object's members in order, repeats kept."""


def _first_repeat(node: Any, path: list[str | int]) -> list[str | int] | None:
    if isinstance(node, _Pairs):
        seen: set[str] = set()
        for key, _ in node:
            if key in seen:
                return [*path, key]
            seen.add(key)
        for key, value in node:
            found = _first_repeat(value, [*path, key])
            if found is not None:
                return found
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found = _first_repeat(value, [*path, i])
            if found is not None:
                return found
    return None


def _problem(raw: bytes, prefix: Sequence[str | int]) -> ValidationFailed:
    try:
        tree = json.loads(raw, object_pairs_hook=_Pairs)
    except ValueError:  # json reads some texts jiter does not; name the body then
        tree = None
    where = _first_repeat(tree, [*prefix]) or [*prefix]
    key = where[-1] if where else ""
    field = ".".join(str(p) for p in where)
    return invalid(field, f"the key {key!r} appears twice in one object; send each key once")


def refuse_duplicate_keys(raw: bytes, prefix: Sequence[str | int] = ()) -> None:
    """A 422 naming the first repeated key of the JSON document `raw` (its pointer under
    `prefix`). A body that is not JSON at all passes: its parser says so afterwards."""
    try:
        jiter.from_json(raw, catch_duplicate_keys=True, cache_mode="keys")
    except ValueError as exc:
        if "duplicate key" in str(exc):
            raise _problem(raw, prefix) from exc


def refuse_duplicate_keys_in_lines(lines: Sequence[tuple[int, bytes]]) -> None:
    """refuse_duplicate_keys for (index, line) documents of an NDJSON stream, checked together
    as one array (one parser call for a piece of the stream, not one a line)."""
    if not lines:
        return
    try:
        jiter.from_json(
            b"[" + b",".join(line for _, line in lines) + b"]",
            catch_duplicate_keys=True, cache_mode="keys",
        )  # fmt: skip
    except ValueError:
        # A repeat, or a line that is not JSON (which its validation reports): one at a time.
        for index, line in lines:
            refuse_duplicate_keys(line, [index])
