"""An Operation is one REST call described as data: method, path, query, body and how to read
the answer. The endpoint modules build them; Client and AsyncClient send them (with auth,
retries and the Idempotency-Key), so both clients share every endpoint's definition."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeAlias, TypedDict, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, TypeAdapter, ValidationError

from kpi_client.errors import RequestInvalid
from kpi_client.models.base import NAIVE_DATETIME

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

JSON = "application/json"
NDJSON = "application/x-ndjson"

#: A request body: the model, or a mapping checked against it before sending.
Body: TypeAlias = M | Mapping[str, Any]
Parser = Callable[[httpx.Response], T]
QueryValue = str | int | float | bool | dt.date | dt.datetime | enum.Enum | None
Query = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Operation(Generic[T]):
    method: str
    path: str
    parse: Parser[T]
    query: Query = ()
    body: bytes | None = None
    content_type: str = JSON
    idempotency_key: str | None = None
    #: False when the service cannot recognise a retry (it does not keep the answer), so the
    #: request is retried only when it surely did not arrive or was not applied.
    replay_safe: bool = True


def segment(value: str | int) -> str:
    """A path segment, percent-encoded so a slash or space in a key cannot change the path."""
    return quote(str(value), safe="")


def instant_text(name: str, value: dt.datetime) -> str:
    """ISO 8601 of a timezone-aware datetime; a naive one is refused, naming `name`."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise RequestInvalid(f"{name}: {NAIVE_DATETIME}")
    return value.isoformat()


def _query_text(name: str, value: QueryValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return instant_text(name, value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return str(value.value)
    return str(value)


class Page(TypedDict, total=False):
    """How a list that pages by id is read: the items before the id `before`, newest first,
    at most `limit` of them."""

    before: int | None
    limit: int | None


def query(**params: QueryValue | Sequence[QueryValue]) -> Query:
    """Query parameters without the None ones; a trailing `_` is dropped from a name (`from_`)
    and a sequence other than a string (a list, a tuple) gives the parameter once per item."""
    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        name = key.rstrip("_")
        values: Sequence[Any] = (
            value if isinstance(value, Sequence) and not isinstance(value, str) else [value]
        )
        for item in values:
            if item is not None:
                pairs.append((name, _query_text(name, item)))
    return tuple(pairs)


def validated(model: type[M], value: Body[M], what: str = "body") -> M:
    """`value` as a `model`: a mapping is checked here, so a mistake (a naive datetime) is
    refused before anything is sent."""
    if isinstance(value, model):
        return value
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or what}: "
            f"{err['msg'].removeprefix('Value error, ')}"
            for err in exc.errors(include_url=False)
        )
        raise RequestInvalid(f"{what} is invalid: {problems}") from exc


def encode(model: BaseModel) -> bytes:
    """The JSON of a request model: only the fields set, so the service's defaults apply."""
    return model.model_dump_json(exclude_unset=True, by_alias=True).encode()


def encode_list(models: Iterable[BaseModel]) -> bytes:
    return b"[" + b",".join(encode(m) for m in models) + b"]"


def post_batch(
    path: str,
    model: type[M],
    values: Iterable[Body[M]],
    what: str,
    parse: Parser[T],
    idempotency_key: str | None,
) -> Operation[T]:
    """A POST of a JSON list of `model`s, each checked before sending: a bad one is refused
    naming `what` and its index (`point 3`)."""
    models = [validated(model, value, f"{what} {i}") for i, value in enumerate(values)]
    body = encode_list(models)
    return Operation("POST", path, parse, body=body, idempotency_key=idempotency_key)


_ADAPTERS: dict[Any, TypeAdapter[Any]] = {}


def answer(tp: type[T]) -> Parser[T]:
    """Reads the answer's JSON as `tp` (a model, or e.g. list[Model])."""
    adapter = _ADAPTERS.get(tp)
    if adapter is None:
        adapter = _ADAPTERS[tp] = TypeAdapter(tp)

    def parse(response: httpx.Response) -> T:
        result: T = adapter.validate_json(response.content)
        return result

    return parse


def no_content(response: httpx.Response) -> None:
    return None
