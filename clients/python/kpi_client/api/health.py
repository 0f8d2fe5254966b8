"""Liveness and readiness (no token needed) and the Prometheus metrics."""

from __future__ import annotations

import httpx

from kpi_client.models import Health
from kpi_client.operation import Operation, answer


def health() -> Operation[Health]:
    """The process is up (no token needed)."""
    return Operation("GET", "/healthz", answer(Health))


def ready() -> Operation[Health]:
    """The service's database answers (no token needed); a ServiceUnavailable if not."""
    return Operation("GET", "/readyz", answer(Health))


def _text(response: httpx.Response) -> str:
    return response.text


def metrics() -> Operation[str]:
    """The Prometheus text exposition (scope read)."""
    return Operation("GET", "/metrics", _text)
