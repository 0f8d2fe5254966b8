"""A lean HTTP/1.1 load generator for the benchmarks: raw asyncio protocols, keep-alive
connections, requests built to bytes before the run.

Two shapes of load:

- closed loop (`closed_loop`): N connections, each sending its next request as soon as the
  last is answered; latency is counted from the send. It measures throughput.
- open loop (`open_loop`): requests scheduled at a fixed rate whatever the answers do, sent on
  an idle connection (a new one is opened while fewer than `max_connections` are open, else
  the request waits for one); latency is counted from the scheduled instant, so a backlog
  shows in it instead of slowing the sender down.

Every answer is read to its end (Content-Length or chunked); one with a status of 400 or more,
or that the caller's `check` refuses, counts as an error, as does a connection the server
closed with a request in flight. The generator is one asyncio task per run plus one protocol
object per connection, so that it costs the machine little; the CPU time this process used
during the run is reported with the figures, to show that it was not the bottleneck.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import socket
import time
from collections import Counter, deque
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

#: A check of an answer's body: None when it is right, else what is wrong (counted as an error).
Check = Callable[[int, bytes], str | None]
#: Error samples kept per run (the first ones).
MAX_SAMPLES = 5
#: A connection idle for longer is closed rather than reused: servers close idle keep-alive
#: connections (uvicorn after 5 s), and a request sent as they do would fail.
MAX_IDLE_SECONDS = 3.0


def build_request(
    method: str, host: str, path: str, headers: Mapping[str, str] | None = None, body: bytes = b""
) -> bytes:
    """One HTTP/1.1 request, keep-alive, as the bytes sent on the wire."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    if body or method not in ("GET", "HEAD"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


@dataclass
class Result:
    """What one run measured. Latencies in seconds, of the requests answered without error."""

    requests: int
    elapsed: float
    cpu_seconds: float
    latencies: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    samples: list[str] = field(default_factory=list)
    connections: int = 0

    @property
    def ok(self) -> int:
        return len(self.latencies)

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    @property
    def throughput(self) -> float:
        """Requests answered without error, per second of the run."""
        return self.ok / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def cpu_share(self) -> float:
        """The cores this process used during the run (1.0: one core all the time)."""
        return self.cpu_seconds / self.elapsed if self.elapsed > 0 else 0.0

    def percentile(self, p: float) -> float:
        """The p-quantile (0..1) of the latencies, in milliseconds (nearest rank)."""
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        rank = min(len(ordered) - 1, max(0, math.ceil(p * len(ordered)) - 1))
        return ordered[rank] * 1000

    def summary(self) -> str:
        """One line: throughput, p50/p90/p99/max, errors, and the generator's own CPU."""
        errors = ", ".join(f"{n} {what}" for what, n in self.errors.most_common()) or "0"
        return (
            f"{self.throughput:,.0f} req/s, p50 {self.percentile(0.5):.1f} ms, "
            f"p90 {self.percentile(0.9):.1f} ms, p99 {self.percentile(0.99):.1f} ms, "
            f"max {self.percentile(1.0):.1f} ms, errors {errors}, "
            f"load generator CPU {self.cpu_share:.2f} core"
        )


class _ResponseParser:
    """Reads HTTP/1.1 answers off a byte stream: (status, body) once one is complete."""

    def __init__(self) -> None:
        self.buffer = bytearray()

    def feed(self, data: bytes) -> tuple[int, bytes] | None:
        self.buffer += data
        return self.next()

    def next(self) -> tuple[int, bytes] | None:
        buffer = self.buffer
        end = buffer.find(b"\r\n\r\n")
        if end < 0:
            return None
        head = bytes(buffer[:end]).lower()
        status = int(head[9:12])
        start = end + 4
        length = _header_int(head, b"\r\ncontent-length:")
        if length is not None:
            if len(buffer) < start + length:
                return None
            body = bytes(buffer[start : start + length])
            del buffer[: start + length]
            return status, body
        if b"\r\ntransfer-encoding: chunked" in head:
            return self._chunked(start, status)
        if status in (204, 304) or 100 <= status < 200:
            del buffer[:start]
            return status, b""
        raise ValueError("an answer without Content-Length nor chunked encoding")

    def _chunked(self, start: int, status: int) -> tuple[int, bytes] | None:
        buffer, pos = self.buffer, start
        parts: list[bytes] = []
        while True:
            line_end = buffer.find(b"\r\n", pos)
            if line_end < 0:
                return None
            size = int(bytes(buffer[pos:line_end]).split(b";")[0], 16)
            if size == 0:
                trailer_end = buffer.find(b"\r\n\r\n", line_end)
                if trailer_end < 0:
                    return None
                del buffer[: trailer_end + 4]
                return status, b"".join(parts)
            chunk_start = line_end + 2
            if len(buffer) < chunk_start + size + 2:
                return None
            parts.append(bytes(buffer[chunk_start : chunk_start + size]))
            pos = chunk_start + size + 2


def _header_int(head: bytes, name: bytes) -> int | None:
    at = head.find(name)
    if at < 0:
        return None
    end = head.find(b"\r\n", at + len(name))
    return int(head[at + len(name) : end if end >= 0 else None])


class _Connection(asyncio.Protocol):
    """One keep-alive connection: one request in flight at a time."""

    def __init__(self, run: _Run) -> None:
        self.run = run
        self.transport: asyncio.Transport | None = None
        self.parser = _ResponseParser()
        self.index = -1
        self.started = 0.0
        self.idle_since = 0.0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def send(self, index: int, started: float) -> None:
        assert self.transport is not None
        self.index, self.started = index, started
        self.transport.write(self.run.request(index))

    def data_received(self, data: bytes) -> None:
        try:
            answer = self.parser.feed(data)
        except ValueError as exc:
            self.run.failed(self, f"bad answer: {exc}")
            return
        if answer is not None:
            self.run.answered(self, *answer)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        self.run.lost(self, exc)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


class _Run:
    """The state of one run: requests waiting to be sent, idle connections, what was measured."""

    def __init__(
        self,
        host: str,
        port: int,
        requests: Sequence[bytes] | Callable[[int], bytes],
        total: int,
        max_connections: int,
        check: Check | None,
    ) -> None:
        self.loop = asyncio.get_running_loop()
        self.host, self.port = host, port
        self.request = requests.__getitem__ if isinstance(requests, Sequence) else requests
        self.total = total
        self.max_connections = max_connections
        self.check = check
        #: Requests due and not sent yet: (index, instant latency is counted from, or None
        #: for the send itself).
        self.backlog: deque[tuple[int, float | None]] = deque()
        self.idle: list[_Connection] = []
        self.closing = False  # the run is over: what happens to connections now is not counted
        self.open = 0  # connections open or opening
        self.opened = 0
        self.finished = 0
        self.busy: set[_Connection] = set()
        self.done: asyncio.Future[None] = self.loop.create_future()
        self.latencies: list[float] = []
        self.errors: Counter[str] = Counter()
        self.samples: list[str] = []

    def due(self, index: int, scheduled: float | None) -> None:
        """A request to send now, on an idle connection, a new one, or the first freed."""
        while self.idle:
            conn = self.idle.pop()
            if time.perf_counter() - conn.idle_since <= MAX_IDLE_SECONDS:
                self._send(conn, index, scheduled)
                return
            conn.close()  # counted out of `open` when the loop reports it closed
        self.backlog.append((index, scheduled))
        if self.open < self.max_connections:
            self.open += 1
            self.loop.create_task(self._connect())

    async def _connect(self) -> None:
        try:
            _, conn = await self.loop.create_connection(
                lambda: _Connection(self), self.host, self.port
            )
        except OSError as exc:
            self.open -= 1
            if self.closing:
                return
            self._error(type(exc).__name__, str(exc))
            if self.backlog:
                self.backlog.popleft()
                self._finish_one()
            return
        self.opened += 1
        if self.closing:
            conn.close()
            return
        self._next(conn)

    def _send(self, conn: _Connection, index: int, scheduled: float | None) -> None:
        self.busy.add(conn)
        now = time.perf_counter()
        conn.send(index, now if scheduled is None else scheduled)

    def _next(self, conn: _Connection) -> None:
        if self.backlog:
            self._send(conn, *self.backlog.popleft())
        else:
            self.busy.discard(conn)
            conn.idle_since = time.perf_counter()
            self.idle.append(conn)

    def answered(self, conn: _Connection, status: int, body: bytes) -> None:
        latency = time.perf_counter() - conn.started
        problem = f"status {status}" if status >= 400 else None
        if problem is None and self.check is not None:
            problem = self.check(status, body)
        if problem is None:
            self.latencies.append(latency)
        else:
            self._error(problem, f"request {conn.index}: {status} {body[:300]!r}")
        self._finish_one()
        self._next(conn)

    def failed(self, conn: _Connection, what: str) -> None:
        self._error(what, f"request {conn.index}: {what}")
        self.busy.discard(conn)
        self._finish_one()
        conn.close()

    def lost(self, conn: _Connection, exc: Exception | None) -> None:
        self.open -= 1
        if self.closing:
            return
        if conn in self.idle:
            self.idle.remove(conn)
        if conn in self.busy:
            self.busy.discard(conn)
            self._error("connection closed", f"request {conn.index}: {exc!r}")
            self._finish_one()
        if self.backlog and self.open < self.max_connections:
            self.open += 1
            self.loop.create_task(self._connect())

    def _error(self, what: str, sample: str) -> None:
        self.errors[what] += 1
        if len(self.samples) < MAX_SAMPLES:
            self.samples.append(sample)

    def _finish_one(self) -> None:
        self.finished += 1
        if self.finished >= self.total and not self.done.done():
            self.done.set_result(None)

    def close(self) -> None:
        self.closing = True
        for conn in [*self.idle, *self.busy]:
            conn.close()


async def _measure(
    run: _Run, drive: Callable[[], Coroutine[Any, Any, None]], timeout: float
) -> Result:
    cpu, started = time.process_time(), time.perf_counter()
    driver = asyncio.ensure_future(drive())
    try:
        await asyncio.wait_for(asyncio.shield(run.done), timeout)
    except TimeoutError:
        # Requests sent and not answered by then, and requests never sent for want of a
        # free connection.
        run.errors["timeout"] += run.total - run.finished
    finally:
        driver.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await driver
        elapsed = time.perf_counter() - started
        cpu_used = time.process_time() - cpu
        run.close()
    return Result(
        requests=run.total, elapsed=elapsed, cpu_seconds=cpu_used, latencies=run.latencies,
        errors=run.errors, samples=run.samples, connections=run.opened,
    )  # fmt: skip


async def closed_loop(
    host: str,
    port: int,
    requests: Sequence[bytes] | Callable[[int], bytes],
    *,
    count: int,
    connections: int,
    check: Check | None = None,
    timeout: float = 300.0,
) -> Result:
    """Send requests 0..count-1 over `connections` connections, each sending its next request
    when the last is answered; latency from each send."""
    run = _Run(host, port, requests, count, connections, check)

    async def drive() -> None:
        for index in range(count):
            run.due(index, None)

    return await _measure(run, drive, timeout)


async def open_loop(
    host: str,
    port: int,
    requests: Sequence[bytes] | Callable[[int], bytes],
    *,
    rate: float,
    count: int,
    max_connections: int = 256,
    check: Check | None = None,
    timeout: float | None = None,
) -> Result:
    """Send requests 0..count-1 at `rate` per second, request i due at start + i/rate;
    latency from that instant."""
    run = _Run(host, port, requests, count, max_connections, check)
    interval = 1.0 / rate

    async def drive() -> None:
        start = time.perf_counter()
        index = 0
        while index < count:
            now = time.perf_counter()
            while index < count and start + index * interval <= now:
                run.due(index, start + index * interval)
                index += 1
            if index < count:
                await asyncio.sleep(max(0.0, start + index * interval - time.perf_counter()))

    limit = timeout if timeout is not None else count / rate + 15.0
    return await _measure(run, drive, limit)
