"""What reaches the log: a client's errors briefly, once, without a traceback; the service's
own failures with theirs; every line JSON with the request id (for `--workers 2`, see
tests/reliability/test_worker_logs.py)."""

from __future__ import annotations

import contextlib
import io
import json
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx

from service import db as dbmod
from service.app import create_app
from service.config import Settings
from service.logs import JsonFormatter
from tests.conftest import SingleConnectionDatabase

Headers = dict[str, str]


class JsonLines:
    """Every record of the app's loggers at `level` and above, as the service's JSON
    formatter writes it to stderr (the test's own HTTP client left out)."""

    def __init__(self) -> None:
        self.stream = io.StringIO()

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    @property
    def entries(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.text.splitlines()]


@contextlib.contextmanager
def json_log(level: int) -> Iterator[JsonLines]:
    lines = JsonLines()
    handler = logging.StreamHandler(lines.stream)
    handler.setFormatter(JsonFormatter())
    handler.setLevel(level)
    handler.addFilter(lambda record: record.name != "httpx")
    root = logging.getLogger()
    before = root.level
    root.addHandler(handler)
    root.setLevel(level)
    try:
        yield lines
    finally:
        root.removeHandler(handler)
        root.setLevel(before)


def bad_queries() -> list[str]:
    """Ten queries of about 3 KB on one line, each full of the client's mistakes: five with 28
    arguments of the wrong type (refused by validation), three asking for a field with a long
    unknown name, two with a page size out of range under a long alias (refused while
    executing)."""
    wrong_types = [
        "{ " + " ".join(f"s{i}_{j}_" + "y" * 80 + f": service(slug: {j}) {{ slug }}"
                        for j in range(28)) + " }"
        for i in range(5)
    ]  # fmt: skip
    unknown = [
        "{ services { nodes { slug " + f"unknown_{i}_" + "x" * 3000 + " } } }" for i in range(3)
    ]
    out_of_range = [
        "{ " + f"k{i}_" + "z" * 3000 + ": kpis(first: 1000) { nodes { key } } }" for i in range(2)
    ]
    queries = wrong_types + unknown + out_of_range
    assert all(2900 <= len(q) <= 3600 for q in queries), [len(q) for q in queries]
    return queries


#: How many errors each of bad_queries() gets back.
BAD_QUERY_ERRORS = [28] * 5 + [1] * 5


async def test_ten_bad_graphql_requests_log_a_line_each_without_traceback(
    client: httpx.AsyncClient, reader: Headers
) -> None:
    with json_log(logging.INFO) as log:
        for n, query in enumerate(bad_queries()):
            answer = await client.post(
                "/graphql", json={"query": query}, headers={**reader, "X-Request-ID": f"bad-{n}"}
            )
            assert answer.status_code == 200, answer.text
            assert len(answer.json()["errors"]) == BAD_QUERY_ERRORS[n]
    # Per request: its access line and one line for its GraphQL errors, under 10 KB for the
    # ten, where each error was logged at ERROR with the query's 3 KB line (and, for the page
    # size, a traceback): 313 KB.
    entries = log.entries
    assert len(entries) == 20
    assert len(log.text) < 10 * 1024
    assert "Traceback" not in log.text
    assert {e["level"] for e in entries} == {"info"}
    by_request: dict[str, list[str]] = {}
    for entry in entries:
        by_request.setdefault(entry["request_id"], []).append(entry["logger"])
    assert by_request == {f"bad-{n}": ["service.graphql", "service.access"] for n in range(10)}
    graphql = [e for e in entries if e["logger"] == "service.graphql"]
    assert [e["errors"] for e in graphql] == BAD_QUERY_ERRORS
    assert graphql[0]["first"] == "String cannot represent a non string value: 0"
    assert graphql[5]["first"].startswith("Cannot query field 'unknown_0_xxx")
    assert len(graphql[5]["first"]) == 200 and graphql[5]["first"].endswith("…")
    assert graphql[9]["first"] == "first must be between 1 and 100"


async def test_a_4xx_problem_is_logged_once_at_debug_without_traceback(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    body = {"slug": "ops", "name": "x" * 3000, "unknown": 1}
    with json_log(logging.DEBUG) as log:
        answer = await client.post("/v1/teams", json=body, headers=admin)
        assert answer.status_code == 422, answer.text
        missing = await client.get("/v1/teams/nobody", headers=admin)
        assert missing.status_code == 404
        unrouted = await client.get("/nowhere")
        assert unrouted.status_code == 404
    problems = [e for e in log.entries if e["logger"] == "service.errors"]
    assert [(e["level"], e["status"], e["problem"]) for e in problems] == [
        ("debug", 422, "validation"), ("debug", 404, "not-found"), ("debug", 404, "not-found"),
    ]  # fmt: skip
    assert all(len(e["detail"]) <= 200 and "exc" not in e for e in problems)
    assert "Traceback" not in log.text
    # At INFO, only the access lines.
    assert [e["level"] for e in log.entries if e["level"] != "debug"] == ["info"] * 3


class FailingAfterAuthentication:
    """Lends the test's connection for the token check, then fails as a broken database
    would: the GraphQL resolver meets an error that is the service's, not the client's."""

    def __init__(self, con: dbmod.Connection) -> None:
        self.inner = SingleConnectionDatabase(con)
        self.lent = 0

    @contextlib.asynccontextmanager
    async def acquire(self) -> AsyncIterator[dbmod.Connection]:
        self.lent += 1
        if self.lent > 1:
            raise RuntimeError("internal detail of a failure")
        async with self.inner.acquire() as con:
            yield con


async def test_a_server_error_in_graphql_is_logged_once_at_error_with_its_traceback(
    con: dbmod.Connection, settings: Settings, reader: Headers
) -> None:
    app = create_app(settings, db=FailingAfterAuthentication(con))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    with json_log(logging.INFO) as log:
        async with httpx.AsyncClient(transport=transport, base_url="http://kpi.test") as client:
            answer = await client.post(
                "/graphql", json={"query": "{ teams { nodes { slug } } }"},
                headers={**reader, "X-Request-ID": "broken-1"},
            )  # fmt: skip
    assert answer.status_code == 200
    assert "internal detail" not in answer.text  # masked in the answer
    errors = [e for e in log.entries if e["level"] == "error"]
    assert len(errors) == 1
    [error] = errors
    assert (error["logger"], error["msg"], error["request_id"]) == (
        "service.graphql", "unexpected GraphQL error", "broken-1"
    )  # fmt: skip
    assert "RuntimeError: internal detail of a failure" in error["exc"]
    assert "Traceback" in error["exc"]
