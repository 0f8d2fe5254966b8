"""The service's error tree and its RFC 9457 problem+json rendering.

ApiError                       a problem answered to the client
 +-- Unmapped                  202 kept but not applied (not an error: a report)
 +-- BadRequest                400 the request cannot be read
 +-- Unauthorized              401 no valid token
 +-- Forbidden                 403 the token lacks the scope
 +-- NotFound                  404 no such resource
 +-- MethodNotAllowed          405
 +-- NotAcceptable             406 no representation the client accepts (`format`, Accept)
 +-- RequestTimeout            408 the client stopped sending its body
 +-- Conflict                  409 duplicate key or a reference still in use
 +-- PayloadTooLarge           413 body or batch over the documented limit
 +-- UnsupportedMediaType      415 wrong Content-Type
 +-- ValidationFailed          422 well-formed but invalid; lists each bad field
 |    +-- LateDelivery         422 a webhook's signed time is outside the tolerance: a replay
 +-- RateLimited               429 the token is over its rate limit; Retry-After says when
 +-- ServiceUnavailable        503 the database cannot be reached, or rolled the request back
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import asyncpg
import orjson
from pydantic import ValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

log = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://kpi.example/problems/"


@dataclass(frozen=True)
class FieldError:
    """One bad field: a JSON pointer into the body (or a query/path parameter name)."""

    pointer: str
    detail: str

    @property
    def field(self) -> str:
        return ".".join(self.pointer.lstrip("#/").split("/"))

    def as_dict(self) -> dict[str, str]:
        return {"pointer": self.pointer, "field": self.field, "detail": self.detail}


class ApiError(Exception):
    """A problem answered to the client as problem+json."""

    status: ClassVar[int] = 500
    title: ClassVar[str] = "Internal Server Error"
    slug: ClassVar[str] = "internal"

    def __init__(
        self,
        detail: str,
        *,
        errors: Sequence[FieldError] = (),
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = list(errors)
        self.headers = headers or {}
        self.extra = extra

    def body(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": PROBLEM_TYPE_BASE + self.slug,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance:
            body["instance"] = instance
        if self.errors:
            body["errors"] = [e.as_dict() for e in self.errors]
        body.update(self.extra)
        return body


class Unmapped(ApiError):
    """202: kept, but not applied yet (unknown service, unsupported event); replayable."""

    status, title, slug = 202, "Accepted but not mapped", "unmapped"


class BadRequest(ApiError):
    """400: the request cannot be read."""

    status, title, slug = 400, "Bad Request", "bad-request"


class Unauthorized(ApiError):
    """401: no token, or one that is unknown or revoked."""

    status, title, slug = 401, "Unauthorized", "unauthorized"


class Forbidden(ApiError):
    """403: the token is valid but lacks the scope."""

    status, title, slug = 403, "Forbidden", "forbidden"


class NotFound(ApiError):
    """404: no such resource."""

    status, title, slug = 404, "Not Found", "not-found"


class MethodNotAllowed(ApiError):
    """405: the path exists, the method does not."""

    status, title, slug = 405, "Method Not Allowed", "method-not-allowed"


class NotAcceptable(ApiError):
    """406: the representation asked for (`?format=` or Accept) is not one the endpoint has."""

    status, title, slug = 406, "Not Acceptable", "not-acceptable"


class RequestTimeout(ApiError):
    """408: the client stopped sending its body before it was complete."""

    status, title, slug = 408, "Request Timeout", "request-timeout"


class Conflict(ApiError):
    """409: a duplicate key, or a resource still referenced."""

    status, title, slug = 409, "Conflict", "conflict"


class PayloadTooLarge(ApiError):
    """413: the body or batch is over the documented limit."""

    status, title, slug = 413, "Payload Too Large", "payload-too-large"


class UnsupportedMediaType(ApiError):
    """415: the Content-Type is not one the endpoint takes."""

    status, title, slug = 415, "Unsupported Media Type", "unsupported-media-type"


class ValidationFailed(ApiError):
    """422: well-formed but invalid; `errors` names each bad field."""

    status, title, slug = 422, "Unprocessable Content", "validation"


class LateDelivery(ValidationFailed):
    """422: a webhook delivery whose signed time lies outside the tolerance of its arrival."""


class RateLimited(ApiError):
    """429: the token sent more than its rate limit allows; retry after Retry-After."""

    status, title, slug = 429, "Too Many Requests", "rate-limited"


class ServiceUnavailable(ApiError):
    """503: the database cannot be reached; retry later."""

    status, title, slug = 503, "Service Unavailable", "unavailable"


def field_error(field: str, detail: str) -> FieldError:
    """A FieldError from a dotted field name ("tier", "3.ts")."""
    return FieldError("#/" + "/".join(field.split(".")) if field else "#", detail)


def invalid(field: str, detail: str) -> ValidationFailed:
    """A 422 naming one field."""
    return ValidationFailed(f"{field}: {detail}", errors=[field_error(field, detail)])


#: Most bad fields a 422 lists; `errors_total` says how many there were in all.
MAX_LISTED_ERRORS = 100


def invalid_fields(errors: Sequence[FieldError]) -> ValidationFailed:
    """A 422 naming every bad field (the first MAX_LISTED_ERRORS of them, with the count of
    all in `errors_total`), so a client fixes a batch in one go, not one error per try."""
    listed = list(errors[:MAX_LISTED_ERRORS])
    if len(errors) == 1:
        return ValidationFailed(f"{listed[0].field or 'body'}: {listed[0].detail}", errors=listed)
    names = ", ".join(e.field or "body" for e in listed[:5])
    more = f" and {len(errors) - 5} more" if len(errors) > 5 else ""
    return ValidationFailed(
        f"{len(errors)} invalid fields: {names}{more}", errors=listed, errors_total=len(errors)
    )


def from_pydantic(exc: ValidationError, prefix: Iterable[str | int] = ()) -> ValidationFailed:
    """A 422 listing every error pydantic found, each with a JSON pointer to its field."""
    errors = []
    for err in exc.errors(include_url=False):
        loc = [*prefix, *err["loc"]]
        cause = err.get("ctx", {}).get("error")
        blamed = getattr(cause, "field", None)
        if isinstance(blamed, str):
            loc.extend(blamed.split("."))
        pointer = "#/" + "/".join(str(p) for p in loc) if loc else "#"
        message = str(cause) if blamed else err["msg"]
        errors.append(FieldError(pointer, message))
    fields = ", ".join(e.field or "body" for e in errors[:5])
    more = f" and {len(errors) - 5} more" if len(errors) > 5 else ""
    failed = ValidationFailed(f"invalid fields: {fields}{more}", errors=errors[:MAX_LISTED_ERRORS])
    if len(errors) > MAX_LISTED_ERRORS:
        failed.extra["errors_total"] = len(errors)
    return failed


def problem_response(error: ApiError, instance: str | None = None) -> Response:
    headers = dict(error.headers)
    return Response(
        orjson.dumps(error.body(instance)),
        status_code=error.status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=headers,
    )


_HTTP_STATUS_ERRORS: dict[int, type[ApiError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    405: MethodNotAllowed,
    413: PayloadTooLarge,
    415: UnsupportedMediaType,
}


#: The longest problem detail put in the log.
LOGGED_DETAIL_CHARS = 200


def log_client_error(error: ApiError) -> None:
    """A 4xx problem, at DEBUG and without a traceback: the client's error, not the service's
    (the access line at INFO already has its status)."""
    if log.isEnabledFor(logging.DEBUG):
        detail = error.detail
        if len(detail) > LOGGED_DETAIL_CHARS:
            detail = detail[: LOGGED_DETAIL_CHARS - 1] + "…"
        log.debug("client error", extra={"status": error.status, "problem": error.slug,
                                         "detail": detail})  # fmt: skip


async def handle_api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    if exc.status < 500:
        log_client_error(exc)
    return problem_response(exc, request.url.path)


def error_for_status(status: int, detail: str) -> ApiError:
    return _HTTP_STATUS_ERRORS.get(status, BadRequest)(detail)


async def handle_http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    error = error_for_status(exc.status_code, str(exc.detail))
    error.headers.update(exc.headers or {})
    log_client_error(error)
    return problem_response(error, request.url.path)


#: The database is down, restarting or out of reach: worth a retry, so 503 with Retry-After.
#: Errors that a retry would meet again (bad SQL, a dropped database, wrong password) stay 500.
_UNAVAILABLE = (
    # Refused or reset connections, and service.db.DatabaseUnavailable: no connection could
    # be had within KPI_DB_CONNECT_TIMEOUT_SECONDS / KPI_DB_ACQUIRE_TIMEOUT_SECONDS.
    ConnectionError,
    # A statement cut off after KPI_DB_COMMAND_TIMEOUT_SECONDS (asyncpg raises TimeoutError).
    TimeoutError,
    # The server is starting, stopping or recovering (57P03), stopping and ending sessions
    # (57P01, pg_ctl stop -m fast), or restarting after a backend crashed (57P02).
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
    # The connection was lost in the middle of a statement, or a pooler ended it, having lost
    # its server or failing to reach one (PgBouncer: query_wait_timeout, server_login_retry).
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.ConnectionFailureError,
    asyncpg.exceptions.TooManyConnectionsError,
)


#: What a request meeting an unreachable database is told, and when to retry (seconds).
UNAVAILABLE_DETAIL = "the database is not reachable; retry later"
UNAVAILABLE_RETRY = "5"


def database_unavailable(exc: BaseException) -> bool:
    """Whether `exc` says the database is down, out of reach or not taking writes (a
    failover under way): a 503 with Retry-After in REST and GraphQL alike."""
    return (
        isinstance(exc, _UNAVAILABLE)
        # Using a connection the server has closed meanwhile (e.g. ending the transaction of
        # a request whose connection was lost: the rollback finds it closed).
        or (isinstance(exc, asyncpg.InterfaceError) and "connection is closed" in str(exc))
        # A pooled connection told by the server that it is ending (shutdown, 57P01) while
        # idle, and taken before its close was seen: asyncpg's protocol is still consuming
        # that unsolicited error and refuses the next statement.
        or (
            isinstance(exc, asyncpg.exceptions.InternalClientError)
            and "another operation" in str(exc)
        )
    )


#: SQLSTATE class 22 errors that no value of a request can cause, since every date and time
#: is checked to lie between 1970 and 2200 before it reaches the database: they come from data
#: stored before that check (a period ending at 'infinity') or from a bug. A 500, logged with
#: its trace (`kpi doctor` finds such data); never a 422 blaming the caller.
_STORED_DATA_ERRORS = (
    asyncpg.exceptions.DatetimeFieldOverflowError,
    asyncpg.exceptions.IntervalFieldOverflowError,
)
STORED_DATA_DETAIL = (
    "stored data could not be read (a date or time out of range); it has been logged: "
    "`kpi doctor` finds and explains such data"
)


def blames_client(exc: asyncpg.DataError) -> bool:
    """Whether a value Postgres refused came from the request (a 422) rather than from stored
    data or the server's own arithmetic (a 500)."""
    return not isinstance(exc, _STORED_DATA_ERRORS)


def refused_value(exc: asyncpg.DataError) -> ValidationFailed:
    """A 422 for a value Postgres cannot take: SQLSTATE class 22 (out of range, bad text such
    as a NUL character). Every known case is refused by validation first; this keeps any other
    one a client error, in REST and GraphQL alike."""
    return ValidationFailed(f"a value is out of range: {type(exc).__name__}")


async def handle_unexpected(request: Request, exc: Exception) -> Response:
    """Anything else: logged with its trace, answered without one."""
    if isinstance(exc, asyncpg.ProgramLimitExceededError):
        # A value too long for an index (Postgres refuses btree entries over 2,704 bytes)
        # that no field limit caught: the client's to shorten, not a server failure.
        log.info(
            "value too long for the database",
            extra={"path": request.url.path, "error": type(exc).__name__},
        )
        too_long = ValidationFailed("a value is too long to be stored (over 2,700 bytes in a key)")
        return problem_response(too_long, request.url.path)
    if isinstance(exc, asyncpg.DataError) and not blames_client(exc):
        log.error("stored data out of range", exc_info=exc, extra={"path": request.url.path})
        return problem_response(ApiError(STORED_DATA_DETAIL), request.url.path)
    if isinstance(exc, asyncpg.DataError):
        log.info(
            "value refused by the database",
            extra={"path": request.url.path, "error": type(exc).__name__},
        )
        error: ApiError = refused_value(exc)
        return problem_response(error, request.url.path)
    if isinstance(exc, asyncpg.exceptions.TransactionRollbackError):
        # A deadlock or serialization failure (SQLSTATE class 40): Postgres rolled the
        # request's transaction back, so nothing of it was stored, and a retry can succeed.
        log.warning("rolled back by the database", extra={"path": request.url.path,
                                                          "error": type(exc).__name__})  # fmt: skip
        error = ServiceUnavailable(
            "the request met a concurrent write and was rolled back, storing nothing; retry",
            headers={"Retry-After": "1"},
        )
        return problem_response(error, request.url.path)
    if database_unavailable(exc):
        log.warning("database unavailable", extra={"path": request.url.path, "error": repr(exc)})
        error = ServiceUnavailable(UNAVAILABLE_DETAIL, headers={"Retry-After": UNAVAILABLE_RETRY})
    else:
        log.exception("unhandled error", extra={"path": request.url.path})
        error = ApiError("an unexpected error occurred; it has been logged")
    return problem_response(error, request.url.path)
