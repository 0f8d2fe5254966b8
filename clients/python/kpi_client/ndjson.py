"""Observation points as an NDJSON request body, encoded lazily a chunk at a time, so a stream
of any length is sent with flat memory."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator

from kpi_client.models import ObservationIn
from kpi_client.operation import Body, encode, validated

Point = Body[ObservationIn]

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
        self._chunk: list[bytes] = []

    def _line(self, point: Point) -> bytes:
        line = encode(validated(ObservationIn, point, f"point {self.lines}")) + b"\n"
        self.lines += 1
        return line

    def _add(self, point: Point) -> bytes | None:
        """The chunk `point` completes, if it completes one."""
        self._chunk.append(self._line(point))
        return self._flush() if len(self._chunk) >= self.chunk_points else None

    def _flush(self) -> bytes | None:
        """The points added since the last chunk, as a chunk, if there are any."""
        chunk, self._chunk = self._chunk, []
        return b"".join(chunk) if chunk else None

    @contextlib.contextmanager
    def _reading(self) -> Iterator[None]:
        self.started = True
        try:
            yield
        except Exception as exc:
            self.error = exc
            raise

    def __iter__(self) -> Iterator[bytes]:
        if not isinstance(self.points, Iterable):
            raise TypeError("an async iterable of points needs the AsyncClient")
        with self._reading():
            for point in self.points:
                if (chunk := self._add(point)) is not None:
                    yield chunk
            if (last := self._flush()) is not None:
                yield last

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with self._reading():
            async for point in _each(self.points):
                if (chunk := self._add(point)) is not None:
                    yield chunk
            if (last := self._flush()) is not None:
                yield last


async def _each(points: Iterable[Point] | AsyncIterable[Point]) -> AsyncIterator[Point]:
    if isinstance(points, AsyncIterable):
        async for point in points:
            yield point
    else:
        for point in points:
            yield point
