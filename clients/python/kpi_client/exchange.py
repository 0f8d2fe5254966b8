"""The steps Client and AsyncClient share around each send: building the request (with its
Idempotency-Key, made once so every retry carries the same) and reading the answer."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from typing import TypeVar

import httpx

from kpi_client.errors import TransportError, UnexpectedAnswer, error_from_response
from kpi_client.ndjson import NdjsonBody
from kpi_client.operation import Operation
from kpi_client.retry import RetryPolicy

T = TypeVar("T")

IDEMPOTENCY_KEY = "Idempotency-Key"


def new_idempotency_key() -> str:
    return str(uuid.uuid4())


def build_request(
    http: httpx.Client | httpx.AsyncClient,
    operation: Operation[T],
    content: bytes | Iterator[bytes] | AsyncIterator[bytes] | None = None,
) -> httpx.Request:
    body = operation.body if content is None else content
    headers: dict[str, str] = {}
    if body is not None:
        headers["Content-Type"] = operation.content_type
    if operation.method != "GET":
        headers[IDEMPOTENCY_KEY] = operation.idempotency_key or new_idempotency_key()
    return http.build_request(
        operation.method,
        operation.path,
        params=list(operation.query) or None,
        content=body,
        headers=headers,
    )


def read_answer(operation: Operation[T], response: httpx.Response) -> T:
    """The parsed answer of a 2xx response; the matching ApiError for any other."""
    if not 200 <= response.status_code < 300:
        raise error_from_response(response)
    try:
        return operation.parse(response)
    except (ValueError, KeyError, TypeError) as exc:  # ValidationError and JSON errors too
        raise UnexpectedAnswer(
            f"{operation.method} {operation.path}: the {response.status_code} answer is not "
            f"the documented body: {exc}"
        ) from exc


def no_answer(operation: Operation[T], error: Exception, attempts: int) -> TransportError:
    tries = "1 attempt" if attempts == 1 else f"{attempts} attempts"
    return TransportError(
        f"{operation.method} {operation.path}: no answer after {tries}: "
        f"{type(error).__name__}: {error}",
        attempts=attempts,
    )


def is_last(attempt: int, policy: RetryPolicy, body: NdjsonBody | None) -> bool:
    """No send follows this one: the attempts are used up, or a stream was already read."""
    return attempt >= policy.max_attempts or (body is not None and body.started)
