"""Bulk imports from files (`kpi import`): observation points and cost records, from CSV or
NDJSON, validated with the API's models and stored with the API's store functions.

Formats:

- NDJSON (`.ndjson`, `.jsonl`): one JSON object a line, shaped like one element of the
  `POST /v1/observations` (or `POST /v1/costs`) body; blank lines are skipped.
- CSV (`.csv`, UTF-8, a header line first): one column per field of that body. For
  observations: `kpi`, `ts`, `value` and optionally `service` and `source`; each dimension is
  a column `dim.<name>` (e.g. `dim.region`), and an empty cell leaves that dimension out. For
  costs: `category`, `period_start`, `period_end`, `amount`, `currency` and optionally
  `service`, `note` and `source`. An empty optional cell is the same as the field left out;
  unknown columns are an error.

A file is read once, in chunks of CHUNK_ROWS rows, so memory stays flat however large it
is, and imported in one transaction: a bad row (invalid field, unknown KPI or service) stops
the import with ImportFailed naming the file, line and field, and nothing of that file is
stored. Observation points are copied into the store's staging table chunk by chunk and
merged once at the end, exactly as an NDJSON request is; cost records are upserted chunk by
chunk. A point is identified by (kpi, service, ts, dimensions), a cost record by (service,
category, period, currency): importing a file again changes nothing.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import PurePath
from typing import IO, Any, TypeVar

from pydantic import BaseModel, ValidationError

from service.clock import utc_now
from service.config import Settings
from service.db import Connection
from service.duplicate_keys import refuse_duplicate_keys
from service.errors import ValidationFailed, from_pydantic
from service.models.costs import CostIn
from service.models.observations import Numbered, ObservationIn
from service.usecases import costs
from service.usecases import observations as observe

#: Rows validated and sent to the database at a time.
CHUNK_ROWS = 5_000
#: How often (in rows) the caller hears how far the reading got.
REPORT_EVERY = 500

_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_BOM = b"\xef\xbb\xbf"
M = TypeVar("M", bound=BaseModel)

#: Told (bytes read, rows read) as the file is read.
ReadCallback = Callable[[int, int], None]


class Format(StrEnum):
    CSV = "csv"
    NDJSON = "ndjson"


SUFFIXES = {".csv": Format.CSV, ".ndjson": Format.NDJSON, ".jsonl": Format.NDJSON}


@dataclass(frozen=True)
class Problem:
    line: int | None
    field: str | None
    detail: str


class ImportFailed(Exception):
    """A file that cannot be imported; each problem names its line and field when known."""

    def __init__(self, name: str, problems: list[Problem]) -> None:
        self.name = name
        self.problems = problems
        super().__init__("\n".join(self.lines()))

    def lines(self) -> list[str]:
        out = []
        for p in self.problems:
            where = self.name if p.line is None else f"{self.name}:{p.line}"
            out.append(f"{where}: {p.field}: {p.detail}" if p.field else f"{where}: {p.detail}")
        return out


def _fail(name: str, line: int | None, field: str | None, detail: str) -> ImportFailed:
    return ImportFailed(name, [Problem(line, field, detail)])


def count_rows(stream: IO[bytes], fmt: Format) -> int:
    """How many rows a file holds, read ahead for a progress bar's total: its lines with
    more than whitespace, less the CSV header. A quoted CSV cell spanning lines makes it
    high; the rows read are the count that is reported."""
    lines = sum(1 for line in stream if line.strip())
    return max(lines - 1, 0) if fmt is Format.CSV else lines


@dataclass(frozen=True)
class Summary:
    rows: int  # rows read (not counting the header and blank lines)
    stored: int  # distinct points or records sent to the store
    inserted: int
    updated: int
    unchanged: int

    @property
    def duplicates(self) -> int:
        """Rows repeating an earlier row's key in the file (the last one counts)."""
        return self.rows - self.stored


def format_for(path: str, given: str | None) -> Format:
    """The format named by --format, else the file's suffix."""
    if given is not None:
        return Format(given)
    found = SUFFIXES.get(PurePath(path).suffix.lower())
    if found is None:
        name = "<stdin>" if path == "-" else path
        raise _fail(name, None, None, "give --format csv or ndjson (or use .csv, .ndjson, .jsonl)")
    return found


@dataclass(frozen=True)
class _Columns:
    required: tuple[str, ...]
    optional: tuple[str, ...]  # an empty cell leaves the field out
    numbers: tuple[str, ...]  # parsed as numbers before validation
    dimensions: bool = False  # dim.<name> columns allowed


OBSERVATION_COLUMNS = _Columns(("kpi", "ts", "value"), ("service", "source"), ("value",), True)
COST_COLUMNS = _Columns(
    ("category", "period_start", "period_end", "amount", "currency"),
    ("service", "note", "source"),
    ("amount",),
)
DIMENSION_PREFIX = "dim."


class _Lines:
    """The lines of a binary stream, counting lines and bytes read."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream
        self.number = 0
        self.bytes = 0

    def __iter__(self) -> Iterator[bytes]:
        for raw in self.stream:
            self.number += 1
            self.bytes += len(raw)
            yield raw.removeprefix(_BOM) if self.number == 1 else raw


def _decoded(lines: _Lines, name: str) -> Iterator[str]:
    for raw in lines:
        try:
            yield raw.decode()
        except UnicodeDecodeError as exc:
            raise _fail(name, lines.number, None, f"not UTF-8 text (byte {exc.start})") from exc


def _check_header(name: str, header: list[str], columns: _Columns) -> None:
    known = set(columns.required) | set(columns.optional)
    seen: set[str] = set()
    for column in header:
        if column in seen:
            raise _fail(name, 1, column, "the column appears twice")
        seen.add(column)
        if columns.dimensions and column.startswith(DIMENSION_PREFIX):
            if column == DIMENSION_PREFIX:
                raise _fail(name, 1, column, "name the dimension, e.g. dim.region")
        elif column not in known:
            allowed = [*columns.required, *columns.optional]
            if columns.dimensions:
                allowed.append(DIMENSION_PREFIX + "<name>")
            raise _fail(name, 1, column, f"unknown column; columns are {', '.join(allowed)}")
    missing = [c for c in columns.required if c not in seen]
    if missing:
        raise _fail(name, 1, None, f"missing columns: {', '.join(missing)}")


def _fields(cells: dict[str, str], columns: _Columns) -> dict[str, Any]:
    """A CSV row as the API's JSON body would carry it."""
    data: dict[str, Any] = {}
    dimensions: dict[str, str] = {}
    for column, cell in cells.items():
        if column.startswith(DIMENSION_PREFIX) and columns.dimensions:
            if cell != "":
                dimensions[column.removeprefix(DIMENSION_PREFIX)] = cell
        elif column in columns.numbers:
            # A number, or the text itself so that validation names it.
            data[column] = float(cell) if _NUMBER.match(cell.strip()) else cell
        elif cell != "" or column not in columns.optional:
            data[column] = cell
    if dimensions:
        data["dimensions"] = dimensions
    return data


def _problems(exc: ValidationError, line: int, csv_columns: bool) -> list[Problem]:
    out = []
    for err in from_pydantic(exc).errors:
        field = err.field or None
        if csv_columns and field is not None and field.startswith("dimensions."):
            field = DIMENSION_PREFIX + field.removeprefix("dimensions.")
        out.append(Problem(line, field, err.detail))
    return out


def _csv_rows(
    lines: _Lines, name: str, model: type[M], columns: _Columns
) -> Iterator[tuple[int, M]]:
    reader = csv.reader(_decoded(lines, name), strict=True)
    try:
        header = [c.strip() for c in next(reader, [])]
        if not header:
            return
        _check_header(name, header, columns)
        while True:
            start = reader.line_num + 1
            cells = next(reader, None)
            if cells is None:
                return
            if not cells:
                continue  # a blank line
            if len(cells) != len(header):
                raise _fail(name, start, None, f"{len(cells)} cells; the header has {len(header)}")
            data = _fields(dict(zip(header, cells, strict=True)), columns)
            try:
                yield start, model.model_validate(data)
            except ValidationError as exc:
                raise ImportFailed(name, _problems(exc, start, csv_columns=True)) from exc
    except csv.Error as exc:
        raise _fail(name, reader.line_num, None, f"not valid CSV: {exc}") from exc


def _ndjson_rows(lines: _Lines, name: str, model: type[M]) -> Iterator[tuple[int, M]]:
    for raw in lines:
        if not raw.strip():
            continue
        try:
            refuse_duplicate_keys(raw)
            yield lines.number, model.model_validate_json(raw)
        except ValidationError as exc:
            raise ImportFailed(name, _problems(exc, lines.number, csv_columns=False)) from exc
        except ValidationFailed as exc:
            (error,) = exc.errors
            raise _fail(name, lines.number, error.field, error.detail) from exc


def _rows(
    lines: _Lines, name: str, fmt: Format, model: type[M], columns: _Columns
) -> Iterator[tuple[int, M]]:
    """(line number, validated row) for each row of the file."""
    if fmt is Format.CSV:
        return _csv_rows(lines, name, model, columns)
    return _ndjson_rows(lines, name, model)


def _chunks(
    rows: Iterator[tuple[int, M]], lines: _Lines, on_read: ReadCallback | None
) -> Iterator[list[tuple[int, M]]]:
    chunk: list[tuple[int, M]] = []
    count = 0
    for row in rows:
        chunk.append(row)
        count += 1
        if on_read is not None and count % REPORT_EVERY == 0:
            on_read(lines.bytes, count)
        if len(chunk) >= CHUNK_ROWS:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
    if on_read is not None:
        on_read(lines.bytes, count)


def _from_store(name: str, exc: ValidationFailed, line_of: Callable[[int], int]) -> ImportFailed:
    """The store's 422 (pointer `<index>.<field>`) as a problem at that row's line."""
    problems = []
    for err in exc.errors:
        index, _, field = err.field.partition(".")
        if not index.isdigit():
            raise exc
        problems.append(Problem(line_of(int(index)), field or None, err.detail))
    return ImportFailed(name, problems)


async def import_observations(
    con: Connection,
    stream: IO[bytes],
    *,
    name: str,
    fmt: Format,
    on_read: ReadCallback | None = None,
    now: dt.datetime | None = None,
    settings: Settings | None = None,
) -> Summary:
    """Store every point of the file in one transaction, or none (ImportFailed). A backfill:
    any instant from 1970 to 2200 (months far from `now` share the default partition)."""
    lines = _Lines(stream)
    rows = 0

    async def numbered() -> AsyncIterator[list[Numbered]]:
        nonlocal rows
        # A point's position is its line number, so the store's errors name the line.
        for chunk in _chunks(_rows(lines, name, fmt, ObservationIn, OBSERVATION_COLUMNS),
                             lines, on_read):  # fmt: skip
            rows += len(chunk)
            yield chunk

    try:
        async with con.transaction():
            result = await observe.ingest(
                con, numbered(), now=now or utc_now(), settings=settings, backfill=True
            )
    except ValidationFailed as exc:
        raise _from_store(name, exc, lambda line: line) from exc
    return Summary(rows, result.points, result.inserted, result.updated, result.unchanged)


async def import_costs(
    con: Connection,
    stream: IO[bytes],
    *,
    name: str,
    fmt: Format,
    on_read: ReadCallback | None = None,
) -> Summary:
    """Store every cost record of the file in one transaction, or none (ImportFailed).

    Records are upserted a chunk at a time; the counts are the store's, summed over chunks
    (a record repeated in a later chunk counts again, as updated or unchanged).
    """
    lines = _Lines(stream)
    rows = stored = inserted = updated = unchanged = 0
    async with con.transaction():
        for chunk in _chunks(_rows(lines, name, fmt, CostIn, COST_COLUMNS), lines, on_read):
            rows += len(chunk)
            try:
                result = await costs.ingest(con, [record for _, record in chunk], limit=None)
            except ValidationFailed as exc:
                raise _from_store(name, exc, [line for line, _ in chunk].__getitem__) from exc
            stored += result.records
            inserted += result.inserted
            updated += result.updated
            unchanged += result.unchanged
    return Summary(rows, stored, inserted, updated, unchanged)
