"""Reading webhook payloads: members at JSON pointers, and PayloadErrors that name them.

The adapters read a payload in one of two styles, both served here:

* functions over plain values (`object_at`, `list_at`, `required_text` ...), for adapters that
  walk the payload themselves and write pointers from "" (the whole document), e.g.
  "/event/data";
* `Node`, a JSON object together with its pointer, whose readers are strict about types, for
  adapters that write pointers from "#" (the GitHub and GitLab ones), e.g. "#/deployment/id".

The lenient readers (`is_int`, `nonempty`, `peek`, `peek_text`, `join_texts`) never raise:
they read optional fields that are dropped when malformed, and serve `event_type` and
`delivery_key`, which must not fail on any payload.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from service.ingest.model import PayloadError
from service.ingest.timeparse import parse_time

#: A JSON object as the JSON parser gives it.
Json = Mapping[str, object]

#: Ids go into external ids (at most 200 characters) with a prefix.
MAX_ID = 100

_SHA = re.compile(r"[0-9a-fA-F]{4,64}")

_Model = TypeVar("_Model", bound=BaseModel)


# --- pointers and lenient reads (never raise) ------------------------------------------------


def child(pointer: str, key: str | int) -> str:
    """The pointer of member `key` (or array index) of the value at `pointer`, with "~" and
    "/" in the key escaped as RFC 6901 says."""
    token = str(key).replace("~", "~0").replace("/", "~1")
    return f"{pointer}/{token}"


def is_int(value: object) -> bool:
    """Whether value is a JSON integer (a Python int, but not a bool)."""
    return isinstance(value, int) and not isinstance(value, bool)


def nonempty(value: object) -> str | None:
    """The value if it is a string with more than whitespace in it, else None."""
    return value if isinstance(value, str) and value.strip() else None


def peek(value: object, key: str) -> object:
    """Member `key` of value if value is an object (None if it is not, or has no such key)."""
    return value.get(key) if isinstance(value, dict) else None


def peek_text(value: object, key: str) -> str | None:
    """Member `key` of value if value is an object and the member a string other than ""."""
    member = peek(value, key)
    return member if isinstance(member, str) and member else None


def join_texts(*parts: object) -> str | None:
    """The parts that are strings with more than whitespace, without repeats, one a line;
    None if there are none."""
    texts = list(dict.fromkeys(p for p in parts if isinstance(p, str) and p.strip()))
    return "\n".join(texts) or None


def without_none(**values: str | None) -> dict[str, str]:
    """The given values, in the given order, leaving out those that are None."""
    return {key: value for key, value in values.items() if value is not None}


# --- strict reads (raise PayloadError naming the pointer) ------------------------------------


def object_at(value: object, pointer: str) -> Json:
    """The value, which must be a JSON object."""
    if not isinstance(value, dict):
        raise PayloadError(pointer, "expected an object")
    return value


def optional_object_at(value: object, pointer: str) -> Json:
    """Like object_at, but None (a missing or null member) is an empty object."""
    return {} if value is None else object_at(value, pointer)


def list_at(value: object, pointer: str, *, detail: str = "expected a list") -> list[object]:
    """The value, which must be a JSON array; `detail` is the error's message otherwise."""
    if not isinstance(value, list):
        raise PayloadError(pointer, detail)
    return value


def strings_at(value: object, pointer: str) -> dict[str, str]:
    """An object of strings (a label set, say): None is empty, anything else is an error."""
    if value is None:
        return {}
    obj = object_at(value, pointer)
    if not all(isinstance(v, str) for v in obj.values()):
        raise PayloadError(pointer, "expected an object of strings")
    return {str(k): str(v) for k, v in obj.items()}


def required_text(container: Json, key: str, pointer: str) -> str:
    """Member `key` of the object at `pointer`: a string with more than whitespace in it."""
    value = nonempty(container.get(key))
    if value is None:
        raise PayloadError(child(pointer, key), "expected a non-empty string")
    return value


def validated(model: type[_Model], pointer: str, /, **fields: object) -> _Model:
    """The model built from fields, or a PayloadError at `pointer` when a value breaks the
    model's limits (an id too long, say), naming the first field at fault."""
    try:
        return model.model_validate(fields)
    except ValidationError as exc:
        error = exc.errors()[0]
        raise PayloadError(pointer, f"{error['loc'][0]}: {error['msg']}") from exc


# --- Node ------------------------------------------------------------------------------------


class Node:
    """A JSON object and its JSON pointer ("#" for the whole document): reading a member that
    is missing or of the wrong type raises a PayloadError naming that member.

    Optional readers (`opt_*`) take a missing member, null and "" alike as absent.
    """

    def __init__(self, value: object, pointer: str = "#") -> None:
        self._data = object_at(value, pointer)
        self.pointer = pointer

    def at(self, key: str) -> str:
        """The pointer of member `key`."""
        return child(self.pointer, key)

    def has(self, key: str) -> bool:
        """Whether member `key` is present (whatever its value, null included)."""
        return key in self._data

    def raw(self, key: str) -> object:
        """Member `key` as it is, None if missing."""
        return self._data.get(key)

    def obj(self, key: str) -> Node:
        """Member `key`, which must be an object."""
        return Node(self.raw(key), self.at(key))

    def opt_obj(self, key: str) -> Node | None:
        """Member `key`, an object, or None if missing or null."""
        return None if self.raw(key) is None else self.obj(key)

    def items(self, key: str) -> list[Node]:
        """Member `key`, an array of objects; missing or null is empty."""
        value = self.raw(key)
        if value is None:
            return []
        pointer = self.at(key)
        values = list_at(value, pointer, detail="expected an array")
        return [Node(item, child(pointer, index)) for index, item in enumerate(values)]

    def opt_text(self, key: str) -> str | None:
        """A string member; missing, null and "" all mean absent."""
        value = self.raw(key)
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            raise PayloadError(self.at(key), "expected a string")
        return value

    def text(self, key: str) -> str:
        """A string member that must be there (and not "")."""
        value = self.opt_text(key)
        if value is None:
            raise PayloadError(self.at(key), "required string is missing")
        return value

    def ident(self, key: str) -> str:
        """An id, which tools send as a number or as a string (of at most MAX_ID characters)."""
        value = self.raw(key)
        if is_int(value):
            return str(value)
        if isinstance(value, str) and 0 < len(value) <= MAX_ID:
            return value
        raise PayloadError(self.at(key), "required id is missing or too long")

    def opt_sha(self, key: str) -> str | None:
        """A commit sha (4 to 64 hex digits, abbreviated or full), or None if absent."""
        value = self.opt_text(key)
        if value is not None and not _SHA.fullmatch(value):
            raise PayloadError(self.at(key), f"not a commit sha: {value!r}")
        return value

    def sha(self, key: str, *, missing: str = "required commit sha is missing") -> str:
        """A commit sha that must be there; `missing` is the error's message if it is not."""
        value = self.opt_sha(key)
        if value is None:
            raise PayloadError(self.at(key), missing)
        return value

    def time(self, key: str) -> dt.datetime:
        """A timestamp (see timeparse.parse_time), in UTC."""
        return parse_time(self.raw(key), self.at(key))

    def opt_time(self, key: str) -> dt.datetime | None:
        """A timestamp, or None if absent."""
        return None if self.raw(key) in (None, "") else self.time(key)
