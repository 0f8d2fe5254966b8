"""Python client of the KPI service's REST API (sync `Client`, asyncio `AsyncClient`) and the
`kpi-report` CI reporter.

    from kpi_client import Client

    with Client() as kpi:  # KPI_URL and KPI_TOKEN from the environment
        kpi.ingest_observations([{"kpi": "orders", "ts": now, "value": 42}])
"""

from kpi_client.async_client import AsyncClient
from kpi_client.config import VERSION as __version__
from kpi_client.errors import (
    ApiError,
    BadRequest,
    ClientError,
    ConfigurationError,
    Conflict,
    FieldError,
    Forbidden,
    GraphQLError,
    KpiError,
    NotAcceptable,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    RequestInvalid,
    ServerError,
    ServiceUnavailable,
    TransportError,
    Unauthorized,
    UnexpectedAnswer,
    UnsupportedMediaType,
    ValidationFailed,
)
from kpi_client.operation import Operation
from kpi_client.retry import RetryPolicy
from kpi_client.sync_client import Client

__all__ = [
    "ApiError",
    "AsyncClient",
    "BadRequest",
    "Client",
    "ClientError",
    "ConfigurationError",
    "Conflict",
    "FieldError",
    "Forbidden",
    "GraphQLError",
    "KpiError",
    "NotAcceptable",
    "NotFound",
    "Operation",
    "PayloadTooLarge",
    "RateLimited",
    "RequestInvalid",
    "RetryPolicy",
    "ServerError",
    "ServiceUnavailable",
    "TransportError",
    "Unauthorized",
    "UnexpectedAnswer",
    "UnsupportedMediaType",
    "ValidationFailed",
    "__version__",
]
