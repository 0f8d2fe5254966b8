"""Client: the blocking client. Its methods (one per endpoint, see api/) are listed once in
client_base.py; AsyncClient has the same methods, awaitable."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any, Self, TypeVar

import httpx

from kpi_client import csv_download, exchange
from kpi_client.client_base import ClientBase, HttpOptions
from kpi_client.models import IngestResult
from kpi_client.ndjson import DEFAULT_CHUNK_POINTS, NdjsonBody, Point
from kpi_client.operation import Operation

T = TypeVar("T")


class Client(ClientBase[httpx.BaseTransport, httpx.Client]):
    """A client of the KPI service.

    `url` and `token` default to the environment's KPI_URL and KPI_TOKEN. Failed sends are
    retried per `retry`; writes carry an Idempotency-Key (pass `idempotency_key=` to choose
    it). `transport` replaces the network (tests, proxies).
    """

    def _connect(self, options: HttpOptions, transport: httpx.BaseTransport | None) -> httpx.Client:
        return httpx.Client(transport=transport, **options)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def execute(self, operation: Operation[T]) -> T:
        """Sends an operation, retrying per the policy, and gives its parsed answer."""
        return self._send(operation, self.build_request(operation), None)

    def stream_observations(
        self,
        points: Iterable[Point],
        *,
        chunk_points: int = DEFAULT_CHUNK_POINTS,
        idempotency_key: str | None = None,
    ) -> IngestResult:
        """Sends any number of points as one NDJSON stream, encoded as it is read, so memory
        stays flat. Atomic like a batch. A generator cannot be sent twice, so the stream is
        retried only while none of it was read; sending the same points again yourself is
        safe (a point sent again changes nothing)."""
        body = NdjsonBody(points, chunk_points)
        operation, request = self._stream_request(iter(body), idempotency_key)
        return self._send(operation, request, body)

    def save_csv(self, operation: Operation[Any], file: csv_download.CsvTarget) -> int:
        """Writes the CSV answer of a read (`kpi_client.api`: `get_series`, `get_scorecard`,
        `get_kpi_status_history`, `list_incidents`, `list_changes`, `get_service_report`) to
        `file`, a path or a binary file, as it arrives; gives the bytes written."""
        csv_operation = csv_download.as_csv(operation)
        request = self.build_request(csv_operation)
        response = self._send(csv_operation, request, None, stream=True)
        target = csv_download.CsvFile(file)
        try:
            csv_download.check(response)
            with target.open() as out:
                for chunk in response.iter_bytes():
                    target.write(out, chunk)
        finally:
            response.close()
        return target.size

    def _send(
        self, operation: Operation[T], request: httpx.Request, body: NdjsonBody | None,
        *, stream: bool = False,
    ) -> T:  # fmt: skip
        attempts = exchange.Attempts(operation, self.retry, body)
        while True:
            try:
                response = self._http.send(request, stream=stream)
            except httpx.TransportError as exc:
                time.sleep(attempts.wait_after_error(exc))
                continue
            wait = attempts.wait_after_answer(response)
            if wait is None:
                if not response.is_success:
                    response.read()  # a streamed error's problem+json
                return exchange.read_answer(operation, response)
            response.close()
            time.sleep(wait)
