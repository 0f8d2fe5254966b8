"""Test transports around the real service running in-process (no mocked server).

- LoopForwardingTransport: a sync transport that hands each request to the async ASGI
  transport on the test's running event loop, so the sync client (run in a worker thread)
  talks to the same app, connection and transaction as the test.
- Flaky / AsyncFlaky: wrap a real transport and inject faults for the first calls: a
  connection error before the request reaches the service, a connection error after the
  service applied it (the answer is lost), or a 503 in place of the real answer.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field

import httpx

#: Faults: "connect-before" (never arrives), "connect-after" (applied, answer lost),
#: "503-before" (refused without reaching the service), "503-after" (applied, a proxy says 503).
Fault = str


class _SyncToAsyncStream(httpx.AsyncByteStream):
    def __init__(self, chunks: Iterable[bytes]) -> None:
        self.chunks = chunks

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            yield chunk


class LoopForwardingTransport(httpx.BaseTransport):
    """Runs each sync request on `loop` through `inner` (called from another thread)."""

    def __init__(self, inner: httpx.AsyncBaseTransport, loop: asyncio.AbstractEventLoop) -> None:
        self.inner = inner
        self.loop = loop

    async def _forward(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, Iterable)
        forwarded = httpx.Request(
            request.method,
            request.url,
            headers=request.headers,
            stream=_SyncToAsyncStream(request.stream),
        )
        response = await self.inner.handle_async_request(forwarded)
        content = await response.aread()
        return httpx.Response(response.status_code, headers=response.headers, content=content)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        future = asyncio.run_coroutine_threadsafe(self._forward(request), self.loop)
        return future.result(timeout=120)


@dataclass
class FaultPlan:
    """The faults of the first calls, in order; later calls pass through."""

    faults: list[Fault]
    calls: int = 0
    forwarded: int = 0
    seen: list[httpx.Request] = field(default_factory=list)

    def next_fault(self, request: httpx.Request) -> Fault | None:
        self.calls += 1
        self.seen.append(request)
        return self.faults.pop(0) if self.faults else None


def _unavailable(request: httpx.Request, retry_after: str | None) -> httpx.Response:
    headers = {"content-type": "application/problem+json"}
    if retry_after is not None:
        headers["retry-after"] = retry_after
    body = b'{"type":"about:blank","title":"Service Unavailable","status":503,"detail":"flaky"}'
    return httpx.Response(503, headers=headers, content=body, request=request)


class AsyncFlaky(httpx.AsyncBaseTransport):
    def __init__(
        self, inner: httpx.AsyncBaseTransport, faults: list[Fault], retry_after: str | None = None
    ) -> None:
        self.inner = inner
        self.plan = FaultPlan(list(faults))
        self.retry_after = retry_after

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        fault = self.plan.next_fault(request)
        if fault == "connect-before":
            raise httpx.ConnectError("flaky: connection refused", request=request)
        if fault == "503-before":
            return _unavailable(request, self.retry_after)
        response = await self.inner.handle_async_request(request)
        await response.aread()
        self.plan.forwarded += 1
        if fault == "connect-after":
            raise httpx.ReadError("flaky: connection reset after the request", request=request)
        if fault == "503-after":
            return _unavailable(request, self.retry_after)
        return response


class Flaky(httpx.BaseTransport):
    def __init__(self, inner: httpx.BaseTransport, faults: list[Fault]) -> None:
        self.inner = inner
        self.plan = FaultPlan(list(faults))

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        fault = self.plan.next_fault(request)
        if fault == "connect-before":
            raise httpx.ConnectError("flaky: connection refused", request=request)
        if fault == "503-before":
            return _unavailable(request, None)
        response = self.inner.handle_request(request)
        response.read()
        self.plan.forwarded += 1
        if fault == "connect-after":
            raise httpx.ReadError("flaky: connection reset after the request", request=request)
        if fault == "503-after":
            return _unavailable(request, None)
        return response


class Unreachable(httpx.BaseTransport):
    """No service at all: every send fails to connect."""

    def __init__(self) -> None:
        self.calls = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        raise httpx.ConnectError("nothing listens here", request=request)


class AsyncRecording(httpx.AsyncBaseTransport):
    """Passes through, counting the lines of each chunk of NDJSON bodies as they are sent."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.chunk_sizes: list[int] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.headers.get("content-type") != "application/x-ndjson":
            return await self.inner.handle_async_request(request)

        async def counted() -> AsyncIterator[bytes]:
            assert isinstance(request.stream, httpx.AsyncByteStream)
            async for chunk in request.stream:
                self.chunk_sizes.append(chunk.count(b"\n"))
                yield chunk

        forwarded = httpx.Request(
            request.method, request.url, headers=request.headers, stream=_AsyncChunks(counted())
        )
        return await self.inner.handle_async_request(forwarded)


class _AsyncChunks(httpx.AsyncByteStream):
    def __init__(self, chunks: AsyncIterator[bytes]) -> None:
        self.chunks = chunks

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self.chunks:
            yield chunk
