"""One exception tree for everything the client raises.

KpiError
 +-- ConfigurationError      no service URL given (argument or KPI_URL)
 +-- RequestInvalid          refused before sending: a naive datetime, a malformed body
 +-- TransportError          no answer: connection failures and timeouts, after the retries
 +-- GraphQLError            a GraphQL answer carrying `errors`
 +-- UnexpectedAnswer        a success answer that is not what the API documents
 +-- ApiError                the service answered with an error (RFC 9457 problem+json)
      +-- ClientError        4xx
      |    +-- BadRequest             400
      |    +-- Unauthorized           401
      |    +-- Forbidden              403
      |    +-- NotFound               404
      |    +-- NotAcceptable          406
      |    +-- Conflict               409
      |    +-- PayloadTooLarge        413
      |    +-- UnsupportedMediaType   415
      |    +-- ValidationFailed       422
      |    +-- RateLimited            429 (after the retries)
      +-- ServerError        5xx (after the retries)
           +-- ServiceUnavailable     503
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx

PROBLEM_MEDIA_TYPE = "application/problem+json"


class KpiError(Exception):
    """Base of every error the client raises."""


class ConfigurationError(KpiError, ValueError):
    """The client cannot be set up: no URL given and none in the environment."""


class RequestInvalid(KpiError, ValueError):
    """A request refused before it was sent (it would not pass the service's checks)."""


class TransportError(KpiError):
    """No answer from the service: connection failures or timeouts, after every retry."""

    def __init__(self, message: str, *, attempts: int) -> None:
        super().__init__(message)
        self.attempts = attempts


class GraphQLError(KpiError):
    """The GraphQL answer listed errors; `data` holds whatever part did resolve."""

    def __init__(self, errors: list[dict[str, Any]], data: dict[str, Any] | None) -> None:
        messages = "; ".join(str(e.get("message", e)) for e in errors) or "GraphQL error"
        super().__init__(messages)
        self.errors = errors
        self.data = data


class UnexpectedAnswer(KpiError):
    """A 2xx answer that cannot be read as the documented body (a proxy's page, a newer
    service that changed a field's type)."""


@dataclass(frozen=True)
class FieldError:
    """One bad field, as the service names it: a JSON pointer, the dotted field, the reason."""

    pointer: str
    field: str
    detail: str


class ApiError(KpiError):
    """An error answer. The problem+json members are attributes; `body` keeps all of them
    (extensions such as `limit` included) and `request_id` is the X-Request-ID header."""

    def __init__(
        self,
        *,
        status: int,
        title: str,
        detail: str,
        type: str = "about:blank",
        instance: str | None = None,
        errors: list[FieldError] | None = None,
        request_id: str | None = None,
        retry_after: str | None = None,
        body: dict[str, Any] | None = None,
    ) -> None:
        self.status = status
        self.title = title
        self.detail = detail
        self.type = type
        self.instance = instance
        self.errors = errors or []
        self.request_id = request_id
        self.retry_after = retry_after
        self.body = body or {}
        super().__init__(str(self))

    def __str__(self) -> str:
        text = f"{self.status} {self.title}: {self.detail}"
        return f"{text} (request id {self.request_id})" if self.request_id else text


class ClientError(ApiError):
    """4xx: the request was refused; sending it again as it is will not help."""


class BadRequest(ClientError):
    """400: the request could not be read."""


class Unauthorized(ClientError):
    """401: no token, or an unknown or revoked one."""


class Forbidden(ClientError):
    """403: the token lacks the scope."""


class NotFound(ClientError):
    """404: no such resource."""


class NotAcceptable(ClientError):
    """406: the representation asked for (format, Accept) is not one the endpoint has."""


class Conflict(ClientError):
    """409: a duplicate key, a resource still in use, or an Idempotency-Key reused."""


class PayloadTooLarge(ClientError):
    """413: the body or batch is over the service's limit."""


class UnsupportedMediaType(ClientError):
    """415: the Content-Type is not one the endpoint takes."""


class ValidationFailed(ClientError):
    """422: well-formed but invalid; `errors` names each bad field."""


class RateLimited(ClientError):
    """429: too many requests, still so after the retries."""


class ServerError(ApiError):
    """5xx: the service failed, still so after the retries."""


class ServiceUnavailable(ServerError):
    """503: the service (or its database) is unavailable."""


_BY_STATUS: dict[int, type[ApiError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    406: NotAcceptable,
    409: Conflict,
    413: PayloadTooLarge,
    415: UnsupportedMediaType,
    422: ValidationFailed,
    429: RateLimited,
    503: ServiceUnavailable,
}


def _error_class(status: int) -> type[ApiError]:
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    if 400 <= status < 500:
        return ClientError
    if status >= 500:
        return ServerError
    return ApiError


def _field_errors(raw: object) -> list[FieldError]:
    if not isinstance(raw, list):
        return []
    found = []
    for item in raw:
        if isinstance(item, dict):
            found.append(
                FieldError(
                    pointer=str(item.get("pointer", "")),
                    field=str(item.get("field", "")),
                    detail=str(item.get("detail", item.get("message", ""))),
                )
            )
    return found


def _problem(response: httpx.Response) -> dict[str, Any]:
    try:
        parsed = json.loads(response.content)
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def error_from_response(response: httpx.Response) -> ApiError:
    """The ApiError subclass for an error answer, with its problem+json fields."""
    problem = _problem(response)
    status = response.status_code
    detail = problem.get("detail")
    if not isinstance(detail, str):
        detail = response.text[:500] if not problem else ""
    title = problem.get("title")
    instance = problem.get("instance")
    return _error_class(status)(
        status=status,
        title=title if isinstance(title, str) else response.reason_phrase,
        detail=detail,
        type=str(problem.get("type", "about:blank")),
        instance=instance if isinstance(instance, str) else None,
        errors=_field_errors(problem.get("errors")),
        request_id=response.headers.get("x-request-id"),
        retry_after=response.headers.get("retry-after"),
        body=problem,
    )
