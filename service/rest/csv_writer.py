"""CSV answers (RFC 4180: CRLF line ends, quoted commas, quotes and line breaks, a header
line), written with the standard library's csv module and streamed in chunks as the rows
come, with text cells guarded against formula injection."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterable, AsyncIterator, Sequence
from typing import Any

from starlette.responses import StreamingResponse

MEDIA_TYPE = "text/csv; charset=utf-8; header=present"

#: Bytes of CSV gathered before a chunk is sent.
CHUNK_BYTES = 64 * 1024

#: What a spreadsheet may take for the start of a formula (OWASP's CSV injection advice),
#: and the quote that marks a guarded cell, so the guard can be read back unambiguously.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "'")

_UNSAFE_FILENAME = re.compile(r"[^A-Za-z0-9._-]+")


def cell(value: Any) -> Any:
    """A value as its CSV cell: null is empty, booleans are true/false, numbers stay numbers,
    and text starting like a formula (or with a quote) gets a leading single quote."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


async def chunks(header: Sequence[str], rows: AsyncIterable[Sequence[Any]]) -> AsyncIterator[bytes]:
    """The header line and the rows as UTF-8 CSV, in chunks of about CHUNK_BYTES."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    async for row in rows:
        writer.writerow([cell(value) for value in row])
        if buffer.tell() >= CHUNK_BYTES:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


def filename(path: str) -> str:
    """The download's name from the request path: /v1/kpis/orders/series gives
    orders-series.csv, /v1/incidents gives incidents.csv."""
    parts = [part for part in path.strip("/").split("/") if part][1:]
    if len(parts) > 1:
        parts = parts[1:]
    stem = _UNSAFE_FILENAME.sub("-", "-".join(parts)).strip("-.") or "export"
    return stem + ".csv"


def response(
    header: Sequence[str], rows: AsyncIterable[Sequence[Any]], path: str
) -> StreamingResponse:
    """A streamed CSV answer, offered as a download named after `path`."""
    headers = {
        "Content-Disposition": f'attachment; filename="{filename(path)}"',
        "Vary": "Accept",
    }
    return StreamingResponse(chunks(header, rows), media_type=MEDIA_TYPE, headers=headers)
