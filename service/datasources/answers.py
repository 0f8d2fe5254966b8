"""Reading Prometheus' answers to a range query (`/api/v1/query_range`): the one series an
SLI query must give, as {instant: value}, or AnswerError saying what Prometheus said instead.

Shapes (tests/fixtures/prometheus/ holds real ones): `{"status": "success", "data":
{"resultType": "matrix", "result": [{"metric": {...}, "values": [[1796547600, "1200"], ...]}]}}`,
values as strings ("NaN", "+Inf" included); an error is `{"status": "error", "errorType":
"bad_data", "error": "..."}` with HTTP 400, 422 or 503.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson


class AnswerError(Exception):
    """Prometheus' answer is an error or not the one series of samples a query must give."""


def _error_text(body: Any) -> str | None:
    if isinstance(body, dict) and body.get("status") == "error":
        kind = body.get("errorType") or "error"
        return f"{kind}: {body.get('error') or 'no detail'}"
    return None


def parse_range(status_code: int, content: bytes) -> dict[dt.datetime, float]:
    """The samples of a query_range answer by instant (UTC); empty when the query matched
    nothing. More than one series is an error: an SLI query must aggregate them (`sum`)."""
    try:
        body = orjson.loads(content)
    except orjson.JSONDecodeError as exc:
        raise AnswerError(f"Prometheus answered {status_code} without JSON") from exc
    error = _error_text(body)
    if error is not None:
        raise AnswerError(f"Prometheus answered {status_code}: {error}"[:500])
    if status_code != 200 or not isinstance(body, dict) or body.get("status") != "success":
        raise AnswerError(f"Prometheus answered {status_code} without a result")
    data = body.get("data")
    if not isinstance(data, dict) or data.get("resultType") != "matrix":
        kind = data.get("resultType") if isinstance(data, dict) else None
        raise AnswerError(f"expected a range result (matrix), got {kind!r}")
    result = data.get("result")
    if not isinstance(result, list):
        raise AnswerError("the answer's result is not a list")
    if len(result) > 1:
        raise AnswerError(
            f"the query gives {len(result)} series; it must give one (aggregate with sum(...))"
        )
    if not result:
        return {}
    return _samples(result[0])


def _samples(series: Any) -> dict[dt.datetime, float]:
    values = series.get("values") if isinstance(series, dict) else None
    if not isinstance(values, list):
        raise AnswerError("the series has no values")
    out: dict[dt.datetime, float] = {}
    for pair in values:
        if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[1], str)):
            raise AnswerError(f'a sample is not [time, "value"]: {str(pair)[:80]}')
        at, text = pair
        if isinstance(at, bool) or not isinstance(at, int | float):
            raise AnswerError(f"a sample's time is not a number: {str(at)[:40]}")
        try:
            value = float(text)
        except ValueError as exc:
            raise AnswerError(f"a sample's value is not a number: {text[:40]!r}") from exc
        out[dt.datetime.fromtimestamp(at, dt.UTC)] = value
    return out
