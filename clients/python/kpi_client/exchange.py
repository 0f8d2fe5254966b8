"""The steps Client and AsyncClient share around each send: building the request (with its
Idempotency-Key, made once so every retry carries the same), deciding after each send whether
to send again, and reading the answer. The clients only send and wait."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any, TypeVar

import httpx

from kpi_client.errors import TransportError, UnexpectedAnswer, error_from_response
from kpi_client.ndjson import NdjsonBody
from kpi_client.operation import Operation
from kpi_client.retry import RetryPolicy, retry_error, retry_status

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


class Attempts:
    """The sends of one call, counted: after each, either the seconds to wait before sending
    again, or the end of the call (the answer to read, or the error to raise)."""

    def __init__(
        self, operation: Operation[Any], policy: RetryPolicy, body: NdjsonBody | None
    ) -> None:
        self.operation = operation
        self.policy = policy
        self.body = body
        self.attempt = 1

    def wait_after_error(self, error: httpx.TransportError) -> float:
        """Seconds to wait before the next send; raises what the call ends with when no send
        follows (what stopped a stream, else a TransportError)."""
        if self.body is not None and self.body.error is not None:
            raise self.body.error from error
        if self._is_last() or not retry_error(error, may_resend=self.operation.replay_safe):
            raise no_answer(self.operation, error, self.attempt) from error
        return self._next(None)

    def wait_after_answer(self, response: httpx.Response) -> float | None:
        """Seconds to wait before the next send; None when `response` is the call's answer."""
        if self.body is not None and self.body.error is not None:
            raise self.body.error
        may_resend = self.operation.replay_safe
        if self._is_last() or not retry_status(response.status_code, may_resend=may_resend):
            return None
        return self._next(response.headers.get("retry-after"))

    def _is_last(self) -> bool:
        """No send follows this one: the attempts are used up, or a stream was already read."""
        body = self.body
        return self.attempt >= self.policy.max_attempts or (body is not None and body.started)

    def _next(self, retry_after: str | None) -> float:
        delay = self.policy.delay(self.attempt, retry_after)
        self.attempt += 1
        return delay
