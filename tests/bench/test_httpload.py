"""The benchmarks' load generator against a tiny HTTP/1.1 server on loopback: every request
answered once, statuses and checks counted as errors, chunked answers read to their end."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from bench import httpload
from bench.harness import free_port


async def _serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Answers each request with its path; /fail with a 500, /chunked in two chunks."""
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            path = head.split(b" ")[1]
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            await reader.readexactly(length)
            if path == b"/chunked":
                writer.write(
                    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                    b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
                )
            else:
                status = b"500 Internal Server Error" if path == b"/fail" else b"200 OK"
                writer.write(
                    b"HTTP/1.1 " + status + b"\r\nContent-Length: " + str(len(path)).encode()
                    + b"\r\nContent-Type: text/plain\r\n\r\n" + path
                )  # fmt: skip
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


@pytest.fixture
async def port() -> AsyncIterator[int]:
    server = await asyncio.start_server(_serve, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()


def _request(port: int, path: str) -> bytes:
    return httpload.build_request("POST", f"127.0.0.1:{port}", path, {"X-A": "b"}, b"{}")


async def test_closed_loop_answers_every_request(port: int) -> None:
    requests = [_request(port, f"/ok/{i}") for i in range(50)]
    seen: list[bytes] = []

    def check(status: int, body: bytes) -> str | None:
        seen.append(body)
        return None

    result = await httpload.closed_loop(
        "127.0.0.1", port, requests, count=50, connections=4, check=check
    )
    assert result.ok == 50 and result.error_count == 0
    assert sorted(seen) == sorted(f"/ok/{i}".encode() for i in range(50))
    assert result.connections == 4
    assert result.throughput > 0 and result.percentile(0.99) >= result.percentile(0.5)
    assert "errors 0" in result.summary()


async def test_statuses_and_refused_checks_count_as_errors(port: int) -> None:
    paths = ["/ok", "/fail", "/refused", "/ok"]

    def check(status: int, body: bytes) -> str | None:
        return "refused" if body == b"/refused" else None

    result = await httpload.closed_loop(
        "127.0.0.1", port, lambda i: _request(port, paths[i]), count=4, connections=1,
        check=check,
    )  # fmt: skip
    assert result.ok == 2
    assert result.errors == {"status 500": 1, "refused": 1}
    assert len(result.samples) == 2


async def test_open_loop_keeps_its_rate_and_reads_chunked_answers(port: int) -> None:
    result = await httpload.open_loop(
        "127.0.0.1", port, lambda i: _request(port, "/chunked"), rate=200, count=40,
        check=lambda status, body: None if body == b"abcde" else f"body {body!r}",
    )  # fmt: skip
    assert result.ok == 40 and result.error_count == 0
    assert 0.15 <= result.elapsed < 5


async def test_a_refused_connection_is_an_error_not_a_hang() -> None:
    with_nothing = free_port()  # bound then released: nothing listens there
    result = await httpload.closed_loop(
        "127.0.0.1", with_nothing, [b"GET / HTTP/1.1\r\n\r\n"], count=1, connections=1,
        timeout=10,
    )  # fmt: skip
    assert result.ok == 0 and result.error_count == 1
