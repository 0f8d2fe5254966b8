"""The CSV writer on its own: cells (null, booleans, numbers, the formula guard), RFC 4180
quoting and line ends, chunked streaming, and download names."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Sequence
from typing import Any

import pytest

from service.rest import csv_writer
from service.rest.csv_writer import cell, filename


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ""),
        (True, "true"),
        (False, "false"),
        (-12.5, -12.5),  # a number stays a number, minus sign and all
        (0, 0),
        ("=1+1", "'=1+1"),
        ("+33 1 23", "'+33 1 23"),
        ("-rf", "'-rf"),
        ("@cmd", "'@cmd"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("'kept", "''kept"),  # so that one leading quote is always the guard's
        ("checkout", "checkout"),
        ("a=b", "a=b"),  # only the first character matters
        ("", ""),
    ],
)
def test_cell(value: Any, expected: Any) -> None:
    assert cell(value) == expected


async def _rows(rows: Sequence[Sequence[Any]]) -> AsyncIterator[Sequence[Any]]:
    for row in rows:
        yield row


async def _text(rows: Sequence[Sequence[Any]]) -> tuple[str, int]:
    chunks = [chunk async for chunk in csv_writer.chunks(["name", "value"], _rows(rows))]
    return b"".join(chunks).decode(), len(chunks)


async def test_rfc_4180_quoting_and_line_ends() -> None:
    text, _ = await _text([["a,b", 1.5], ['say "hi"', None], ["two\nlines", True]])
    assert text == (
        "name,value\r\n"
        '"a,b",1.5\r\n'  # a comma: quoted
        '"say ""hi""",\r\n'  # a quote: quoted and doubled; null: empty
        '"two\nlines",true\r\n'  # a line break: quoted
    )
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows == [["name", "value"], ["a,b", "1.5"], ['say "hi"', ""], ["two\nlines", "true"]]


async def test_long_answers_stream_in_chunks() -> None:
    # 5,000 rows of 'row-' + 4 digits + ',' + 20 digits + CRLF = 4 + 4 + 1 + 20 + 2 = 31
    # bytes each: 155,000 bytes, 2.4 times CHUNK_BYTES (65,536), so 3 chunks: two as the
    # buffer passes 65,536 bytes, and the rest.
    rows = [[f"row-{n:04d}", 10**19 + n] for n in range(5000)]
    text, count = await _text(rows)
    assert len(text) == len("name,value\r\n") + 5000 * 31
    assert count == 3
    parsed = list(csv.reader(io.StringIO(text, newline="")))
    assert parsed[1] == ["row-0000", "10000000000000000000"]
    assert parsed[-1] == ["row-4999", "10000000000000004999"]
    assert len(parsed) == 5001


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/v1/incidents", "incidents.csv"),
        ("/v1/scorecard", "scorecard.csv"),
        ("/v1/kpis/orders/series", "orders-series.csv"),
        ("/v1/kpis/orders/status-history", "orders-status-history.csv"),
        ("/v1/services/checkout/report", "checkout-report.csv"),
        ('/v1/kpis/a"b c/series', "a-b-c-series.csv"),  # nothing that breaks the header
    ],
)
def test_filename(path: str, expected: str) -> None:
    assert filename(path) == expected
