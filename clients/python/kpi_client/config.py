"""Where the service is and which token to use: constructor arguments, else the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping

from kpi_client.errors import ConfigurationError

URL_ENV = "KPI_URL"
TOKEN_ENV = "KPI_TOKEN"
DEFAULT_TIMEOUT = 30.0
VERSION = "0.1.0"
USER_AGENT = f"kpi-client/{VERSION}"


def resolve_url(url: str | None, environ: Mapping[str, str] | None = None) -> str:
    found = url or (os.environ if environ is None else environ).get(URL_ENV, "")
    if not found:
        raise ConfigurationError(f"no service URL: pass url=... or set {URL_ENV}")
    if not found.startswith(("http://", "https://")):
        raise ConfigurationError(f"the service URL must start with http:// or https://: {found!r}")
    return found.rstrip("/")


def resolve_token(token: str | None, environ: Mapping[str, str] | None = None) -> str | None:
    return token or (os.environ if environ is None else environ).get(TOKEN_ENV) or None


def default_headers(token: str | None, extra: Mapping[str, str] | None) -> dict[str, str]:
    headers = {
        "User-Agent": USER_AGENT,
        "Accept": "application/json, application/problem+json",
    }
    if token:
        headers["Authorization"] = f"Bearer {token}"
    headers.update(extra or {})
    return headers
