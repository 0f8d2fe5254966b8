"""A real webhook receiver for tests: served by uvicorn on 127.0.0.1 and a free port, it checks
each request's signature with the Standard Webhooks algorithm written out here (not the
service's own code), records every request, and fails when told to."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from service.outbound import AllowList

Headers = dict[str, str]
Json = dict[str, Any]

#: The receiver listens on loopback, which the outbound guard refuses unless allowed: tests
#: allow it as a deployment would allow its own internal receivers (KPI_OUTBOUND_ALLOW).
LOOPBACK = AllowList.parse(["127.0.0.1"])


def spec_signature(secret: bytes, msg_id: str, timestamp: str, body: bytes) -> str:
    """Standard Webhooks `v1`: base64 of HMAC-SHA256 over "{id}.{timestamp}.{body}"."""
    signed = msg_id.encode() + b"." + timestamp.encode() + b"." + body
    return "v1," + base64.b64encode(hmac.new(secret, signed, hashlib.sha256).digest()).decode()


@dataclass
class Received:
    headers: Headers
    body: bytes
    valid: bool

    @property
    def msg_id(self) -> str:
        return self.headers["webhook-id"]

    @property
    def payload(self) -> Json:
        out: Json = json.loads(self.body)
        return out


@dataclass
class Receiver:
    """A webhook receiver: checks signatures, records every request, fails when told to."""

    secret: bytes = b""
    fail_first: int = 0
    fail_status: int = 500
    delay: float = 0.0
    received: list[Received] = field(default_factory=list)
    url: str = ""

    async def hook(self, request: Request) -> Response:
        body = await request.body()
        headers = dict(request.headers)
        expected = spec_signature(
            self.secret, headers.get("webhook-id", ""), headers.get("webhook-timestamp", ""), body
        )
        valid = expected in headers.get("webhook-signature", "").split(" ")
        self.received.append(Received(headers, body, valid))
        if self.delay:
            await asyncio.sleep(self.delay)
        if not valid:
            return Response(status_code=401)
        if self.fail_first > 0:
            self.fail_first -= 1
            return Response(status_code=self.fail_status)
        return Response(status_code=204)

    def positions(self) -> list[tuple[str | None, int]]:
        """(service, step) of each escalation notification received."""
        return [
            (r.payload["data"]["service"], r.payload["data"]["step"]["position"])
            for r in self.received
        ]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.asynccontextmanager
async def serving(receiver: Receiver) -> AsyncIterator[Receiver]:
    """The receiver on 127.0.0.1 and a free port, until the block ends."""
    app = Starlette(routes=[Route("/hook", receiver.hook, methods=["POST"])])
    config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="off", ws="none")
    server = uvicorn.Server(config)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    receiver.url = f"http://127.0.0.1:{sock.getsockname()[1]}/hook"
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                await task  # raises what stopped it
            await asyncio.sleep(0.01)
        yield receiver
    finally:
        server.should_exit = True
        await task
        sock.close()
