"""AsyncClient: the asyncio client, with the same methods as Client (listed once in
client_base.py), awaitable."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, Iterable
from typing import Any, Self, TypeVar

import httpx

from kpi_client import csv_download, exchange
from kpi_client.client_base import ClientBase, HttpOptions
from kpi_client.models import IngestResult
from kpi_client.ndjson import DEFAULT_CHUNK_POINTS, NdjsonBody, Point
from kpi_client.operation import Operation

T = TypeVar("T")


class AsyncClient(ClientBase[httpx.AsyncBaseTransport, httpx.AsyncClient]):
    """An asyncio client of the KPI service, with the same arguments and methods as `Client`;
    its methods are awaited."""

    def _connect(
        self, options: HttpOptions, transport: httpx.AsyncBaseTransport | None
    ) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=transport, **options)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def execute(self, operation: Operation[T]) -> T:
        """Sends an operation, retrying per the policy, and gives its parsed answer."""
        return await self._send(operation, self.build_request(operation), None)

    async def stream_observations(
        self,
        points: Iterable[Point] | AsyncIterable[Point],
        *,
        chunk_points: int = DEFAULT_CHUNK_POINTS,
        idempotency_key: str | None = None,
    ) -> IngestResult:
        """Like `Client.stream_observations`; `points` may also be an async iterable."""
        body = NdjsonBody(points, chunk_points)
        operation, request = self._stream_request(aiter(body), idempotency_key)
        return await self._send(operation, request, body)

    async def save_csv(self, operation: Operation[Any], file: csv_download.CsvTarget) -> int:
        """Like `Client.save_csv`: the CSV answer of a read written to `file` as it arrives."""
        csv_operation = csv_download.as_csv(operation)
        request = self.build_request(csv_operation)
        response = await self._send(csv_operation, request, None, stream=True)
        target = csv_download.CsvFile(file)
        try:
            csv_download.check(response)
            with target.open() as out:
                async for chunk in response.aiter_bytes():
                    target.write(out, chunk)
        finally:
            await response.aclose()
        return target.size

    async def _send(
        self, operation: Operation[T], request: httpx.Request, body: NdjsonBody | None,
        *, stream: bool = False,
    ) -> T:  # fmt: skip
        attempts = exchange.Attempts(operation, self.retry, body)
        while True:
            try:
                response = await self._http.send(request, stream=stream)
            except httpx.TransportError as exc:
                await asyncio.sleep(attempts.wait_after_error(exc))
                continue
            wait = attempts.wait_after_answer(response)
            if wait is None:
                if not response.is_success:
                    await response.aread()  # a streamed error's problem+json
                return exchange.read_answer(operation, response)
            await response.aclose()
            await asyncio.sleep(wait)
