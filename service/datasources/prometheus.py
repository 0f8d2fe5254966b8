"""Asking a Prometheus server for a query's values over a range (`POST /api/v1/query_range`),
through the outbound guard (service/outbound.py): its host must be public or named in
KPI_OUTBOUND_ALLOW, checked at every call."""

from __future__ import annotations

import base64
import datetime as dt
from urllib.parse import urlencode

import httpx

from service import outbound
from service.datasources.answers import AnswerError, parse_range
from service.models.data_sources import DataSourceAuth, DataSourceSecret

#: Largest answer read from Prometheus: 1,000 samples are some 25 KB.
MAX_ANSWER_BYTES = 4 * 1024 * 1024


class QueryFailed(Exception):
    """A range query that got no usable answer: what went wrong, without addresses."""


def _headers(found: DataSourceSecret) -> dict[str, str]:
    headers = {
        "content-type": "application/x-www-form-urlencoded",
        "accept": "application/json",
    }
    source = found.source
    if source.auth is DataSourceAuth.BEARER and found.secret is not None:
        headers["authorization"] = f"Bearer {found.secret}"
    elif source.auth is DataSourceAuth.BASIC:
        pair = f"{source.username or ''}:{found.secret or ''}".encode()
        headers["authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
    return headers


async def query_range(
    http: httpx.AsyncClient, found: DataSourceSecret, query: str, *, first_end: dt.datetime,
    last_end: dt.datetime, step_seconds: int, allow: outbound.AllowList, timeout: float,
) -> dict[dt.datetime, float]:  # fmt: skip
    """The query's samples at first_end, first_end + step, ... last_end, by instant."""
    url = found.source.url + "/api/v1/query_range"
    form = urlencode({
        "query": query, "start": int(first_end.timestamp()), "end": int(last_end.timestamp()),
        "step": step_seconds, "timeout": f"{timeout:g}s",
    }).encode()  # fmt: skip
    try:
        async with outbound.stream(
            http, "POST", url, allow=allow, timeout=timeout, content=form,
            headers=_headers(found),
        ) as response:  # fmt: skip
            content = await _read(response)
            return parse_range(response.status_code, content)
    except AnswerError as exc:
        raise QueryFailed(str(exc)) from exc
    except (outbound.OutboundRefused, httpx.HTTPError, OSError, TimeoutError) as exc:
        raise QueryFailed(outbound.failure_text(exc, timeout)) from exc


async def _read(response: httpx.Response) -> bytes:
    if response.status_code in (401, 403):
        raise QueryFailed(f"Prometheus answered {response.status_code}: check auth and secret")
    chunks, size = [], 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > MAX_ANSWER_BYTES:
            raise QueryFailed(f"the answer is larger than {MAX_ANSWER_BYTES} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
