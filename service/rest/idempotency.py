"""Idempotency-Key for writes: a retried request gets the first answer, applied once.

A client that sent a write and lost the answer (timeout, dropped connection, 5xx from a proxy)
sends it again with the same Idempotency-Key. The first request claims the key for its token
inside the transaction that applies it and stores its answer before commit, so the claim, the
effect and the answer commit together or not at all. A retry finds the stored answer and gets
it again (marked `Idempotent-Replayed: true`); a retry arriving while the first is still
running waits for it. The same key with a different request (method, path, query or body) is a
409. Failures are not stored: their transaction rolls back, and a retry runs afresh.
"""

from __future__ import annotations

import hashlib

from starlette.requests import Request
from starlette.responses import Response

from service.errors import Conflict, field_error, invalid
from service.store import idempotency as store

HEADER = "idempotency-key"
REPLAYED = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255


def key_of(request: Request) -> str | None:
    """The request's Idempotency-Key, checked: 1-255 visible ASCII characters."""
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if not 0 < len(key) <= MAX_KEY_LENGTH or not all(33 <= ord(c) < 127 for c in key):
        raise invalid("Idempotency-Key", f"must be 1-{MAX_KEY_LENGTH} visible ASCII characters")
    return key


def fingerprint(request: Request, body: bytes) -> str:
    """What makes two requests the same request: method, path, query string and body."""
    digest = hashlib.sha256()
    for part in (request.method, request.url.path, request.url.query):
        digest.update(part.encode() + b"\n")
    digest.update(body)
    return digest.hexdigest()


def replay(answer: store.StoredAnswer, fingerprint: str) -> Response:
    if answer.fingerprint != fingerprint:
        raise Conflict(
            "this Idempotency-Key was already used for another request",
            errors=[field_error("Idempotency-Key", "reused for a different request")],
        )
    return Response(
        answer.body,
        status_code=answer.status,
        media_type=answer.media_type,
        headers={REPLAYED: "true"},
    )
