"""CSV answers of the reads that offer them (series, scorecard, status history, incidents,
changes, service report), saved to a file as they arrive. What both clients share: the read
turned into its CSV request, the check of the answer, and the file written."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, TypeAlias

import httpx

from kpi_client.errors import RequestInvalid, UnexpectedAnswer
from kpi_client.operation import Operation

#: Where a CSV answer goes: a path (written whole or not at all) or a binary file.
CsvTarget: TypeAlias = str | os.PathLike[str] | IO[bytes]

CSV_MEDIA_TYPE = "text/csv"


def _unread(response: httpx.Response) -> httpx.Response:
    return response


def check(response: httpx.Response) -> None:
    """Refuses a success answer that is not CSV: the read offers none."""
    media_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != CSV_MEDIA_TYPE:
        raise UnexpectedAnswer(
            f"{response.request.url.path} answered {media_type or 'no content type'}, not "
            f"CSV: it offers no CSV"
        )


def as_csv(operation: Operation[Any]) -> Operation[httpx.Response]:
    """The same read asking for CSV (`format=csv`); its answer is the response, unread."""
    if operation.method != "GET":
        raise RequestInvalid(f"{operation.method} {operation.path}: only reads answer CSV")
    query = (*((k, v) for k, v in operation.query if k != "format"), ("format", "csv"))
    return Operation("GET", operation.path, _unread, query=query)


class CsvFile:
    """The file a CSV answer is written to. A path is written beside it first and renamed
    into place once complete, so an answer cut short leaves no partial file behind."""

    def __init__(self, target: CsvTarget) -> None:
        self.target = target
        self.size = 0

    @contextlib.contextmanager
    def open(self) -> Iterator[IO[bytes]]:
        if not isinstance(self.target, (str, os.PathLike)):
            yield self.target
            return
        path = Path(self.target)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as out:
                yield out
            os.replace(temporary, path)
        except BaseException:
            os.unlink(temporary)
            raise

    def write(self, out: IO[bytes], chunk: bytes) -> None:
        out.write(chunk)
        self.size += len(chunk)
