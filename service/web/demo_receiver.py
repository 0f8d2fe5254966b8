"""The demo's notification receiver, served by `kpi serve --demo` only: the demo catalog's
escalation webhooks are sent here, to the service itself on loopback, instead of to the
internet. Each delivery's Standard Webhooks signature is checked as any receiver would check
it; the last ones are kept in the memory of the process that received them and shown, newest
first, to a read token at `GET /demo/receiver`."""

from __future__ import annotations

import collections
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from service import ratelimit
from service.clock import rfc3339, utc_now
from service.config import Settings
from service.errors import BadRequest, Unauthorized
from service.models.enums import Scope
from service.models.urls import DEMO_RECEIVER_PATH
from service.notify import signing
from service.rest.endpoint import read_body
from service.usecases import notifications, tokens

#: Where the receiver is served; the demo's webhook steps post to PATH/<step name>.
PATH = DEMO_RECEIVER_PATH
#: How many deliveries are kept; older ones are forgotten.
KEPT = 200


class DemoReceiver:
    """Checks and keeps the notifications the service sends to itself in demo mode."""

    def __init__(self, kept: int = KEPT) -> None:
        self.received: collections.deque[dict[str, Any]] = collections.deque(maxlen=kept)

    async def receive(self, request: Request) -> Response:
        settings: Settings = request.app.state.settings
        body = await read_body(request, settings.max_body_bytes)
        configured = settings.notify_secret.get_secret_value() if settings.notify_secret else None
        async with request.app.state.db.acquire() as con:
            secret = await notifications.signing_secret(con, configured)
        if not signing.verify(secret, request.headers, body):
            raise Unauthorized(
                "the Standard Webhooks signature does not verify", header=signing.SIGNATURE_HEADER
            )
        try:
            envelope = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise BadRequest(f"the body is not JSON: {exc}") from exc
        self.received.append({
            "received_at": rfc3339(utc_now().replace(microsecond=0)),
            "path": request.url.path,
            "webhook_id": request.headers[signing.ID_HEADER],
            "signature_verified": True,
            "body": envelope,
        })  # fmt: skip
        return Response(status_code=204)

    async def show(self, request: Request) -> Response:
        state = request.app.state
        async with state.db.acquire() as con:
            principal = await ratelimit.authenticate(
                state, con, request.headers.get("authorization")
            )
        tokens.require(principal, Scope.READ)
        newest_first = list(reversed(self.received))
        return Response(orjson.dumps(newest_first), media_type="application/json")


def routes() -> list[Route]:
    """The receiver's two routes: deliveries in, and what came in."""
    receiver = DemoReceiver()
    return [
        Route(PATH, receiver.show, methods=["GET"]),
        Route(PATH + "/{step:str}", receiver.receive, methods=["POST"]),
    ]


def receiver_url(host: str, port: int) -> str:
    """The receiver's URL as the service reaches itself: a wildcard listening address is
    reached on loopback."""
    loopback = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "[::1]"}
    shown = loopback.get(host, f"[{host}]" if ":" in host else host)
    return f"http://{shown}:{port}{PATH}"
