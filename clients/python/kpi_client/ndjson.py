"""Observation points as an NDJSON request body, encoded lazily a chunk at a time, so a stream
of any length is sent with flat memory."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator, Mapping
from typing import Any

from kpi_client.models import ObservationIn
from kpi_client.operation import encode, validated

Point = ObservationIn | Mapping[str, Any]

#: Points per chunk handed to the connection.
DEFAULT_CHUNK_POINTS = 1000


class NdjsonBody:
    """An NDJSON body over `points` (an iterable, or an async iterable for the async client).

    `started` tells whether reading began (a generator cannot be sent twice, so a failure after
    that is not retried); `error` keeps what stopped the stream (a point refused while
    encoding, or an error raised by `points` itself), which the client raises in place of
    whatever the interrupted request gave.
    """

    def __init__(self, points: Iterable[Point] | AsyncIterable[Point], chunk_points: int) -> None:
        if chunk_points < 1:
            raise ValueError("chunk_points must be at least 1")
        self.points = points
        self.chunk_points = chunk_points
        self.started = False
        self.lines = 0
        self.error: Exception | None = None

    def _line(self, point: Point) -> bytes:
        line = encode(validated(ObservationIn, point, f"point {self.lines}")) + b"\n"
        self.lines += 1
        return line

    def _chunks(self, points: Iterator[Point]) -> Iterator[bytes]:
        chunk: list[bytes] = []
        for point in points:
            chunk.append(self._line(point))
            if len(chunk) >= self.chunk_points:
                yield b"".join(chunk)
                chunk = []
        if chunk:
            yield b"".join(chunk)

    def __iter__(self) -> Iterator[bytes]:
        if not isinstance(self.points, Iterable):
            raise TypeError("an async iterable of points needs the AsyncClient")
        self.started = True
        try:
            yield from self._chunks(iter(self.points))
        except Exception as exc:
            self.error = exc
            raise

    async def __aiter__(self) -> AsyncIterator[bytes]:
        self.started = True
        chunk: list[bytes] = []
        try:
            async for point in _each(self.points):
                chunk.append(self._line(point))
                if len(chunk) >= self.chunk_points:
                    yield b"".join(chunk)
                    chunk = []
            if chunk:
                yield b"".join(chunk)
        except Exception as exc:
            self.error = exc
            raise


async def _each(points: Iterable[Point] | AsyncIterable[Point]) -> AsyncIterator[Point]:
    if isinstance(points, AsyncIterable):
        async for point in points:
            yield point
    else:
        for point in points:
            yield point
