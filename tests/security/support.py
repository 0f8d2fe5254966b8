"""Shared helpers of the security tests: row counts of every table, a small catalog to write
against, signed webhook deliveries for each source kind, and problem+json checks."""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import hmac
import json
import uuid
from collections.abc import Iterator, Mapping
from typing import Any

import httpx

from service import db as dbmod
from service.models.catalog import KpiIn, OutcomeIn, ServiceIn, TargetIn, TeamIn
from service.models.enums import Aggregation, BuiltinMetric, Direction, KpiKind
from service.models.sources import SourceIn
from service.store import sources
from service.usecases import catalog
from tests.ingest.fixtures import fixture

Json = dict[str, Any]
Headers = dict[str, str]

PROBLEM = "application/problem+json"

#: The service every write below refers to, and the team, outcome and KPI around it.
TEAM, SERVICE, OUTCOME, KPI = "core", "erp", "trust", "orders"
#: A builtin availability KPI: the kind a burn-rate policy watches.
UPTIME = "uptime"

# Tables and their rows ---------------------------------------------------------------------


async def table_names(con: dbmod.Connection) -> set[str]:
    """Every table of the test schema, monthly observation partitions included."""
    rows = await con.fetch(
        "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace"
        " where n.nspname = current_schema() and c.relkind in ('r', 'p')"
    )
    return {r["relname"] for r in rows}


#: Tables a refused request may still write: the rate limiter's buckets (a request answered
#: 403 has used up one request of its token's or address's limit, by design).
NOT_DATA = ("rate_bucket",)


async def row_counts(con: dbmod.Connection) -> dict[str, int]:
    """Rows of every table of data (a partitioned table counts its partitions' rows)."""
    rows = await con.fetch(
        "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace"
        " where n.nspname = current_schema() and c.relkind in ('r', 'p')"
        " and not c.relispartition and c.relname <> all($1::text[]) order by c.relname",
        list(NOT_DATA),
    )
    names = [r["relname"] for r in rows]
    counts = ", ".join(f'(select count(*) from "{name}") as "{name}"' for name in names)
    row = await con.fetchrow(f"select {counts}")
    assert row is not None
    return {name: row[name] for name in names}


def changed(before: Mapping[str, int], after: Mapping[str, int]) -> dict[str, tuple[int, int]]:
    """The tables whose row count differs, with (before, after)."""
    return {
        name: (before.get(name, 0), after.get(name, 0))
        for name in sorted(set(before) | set(after))
        if before.get(name, 0) != after.get(name, 0)
    }


def scalars(value: object) -> Iterator[object]:
    """Every scalar in a JSON value, at any depth, object keys included."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from scalars(item)
    elif isinstance(value, list):
        for item in value:
            yield from scalars(item)
    else:
        yield value


async def stored_anywhere(con: dbmod.Connection, value: object) -> list[str]:
    """The tables having a column (or a member of a json/array column) equal to `value`."""
    names = sorted(await table_names(con))
    union = " union all ".join(
        f"select '{name}' as t, row_to_json(r)::text as j from only \"{name}\" r" for name in names
    )
    found = set()
    for row in await con.fetch(union):
        if row["t"] not in found and any(v == value for v in scalars(json.loads(row["j"]))):
            found.add(row["t"])
    return sorted(found)


# A small catalog -----------------------------------------------------------------------------


async def make_catalog(con: dbmod.Connection) -> dict[str, int]:
    """Team, service, outcome, KPI, a target, an open incident and a cost record, written
    straight to the database (fast: this runs before each of hundreds of cases); the ids of
    the last three."""
    await catalog.TEAMS.create(con, TeamIn(slug=TEAM, name="Core"))
    await catalog.create_service(
        con, service=ServiceIn(slug=SERVICE, name="ERP", tier=2, team=TEAM)
    )
    await catalog.OUTCOMES.create(con, OutcomeIn(slug=OUTCOME, name="Customer trust"))
    await catalog.create_kpi(con, kpi=KpiIn(
        key=KPI, name="Orders", unit="count", direction=Direction.HIGHER_IS_BETTER,
        aggregation=Aggregation.SUM))  # fmt: skip
    await catalog.create_kpi(con, kpi=KpiIn(
        key=UPTIME, name="Uptime", unit="percent", direction=Direction.HIGHER_IS_BETTER,
        kind=KpiKind.BUILTIN, metric=BuiltinMetric.AVAILABILITY))  # fmt: skip
    target = await catalog.create_target(con, target=TargetIn(
        kpi=KPI, service=SERVICE, value=100, effective_from=dt.date(2026, 1, 1)))  # fmt: skip
    incident = await con.fetchval(
        "insert into incident (source_id, external_id, service_id, status, started_at)"
        " select (select id from source where name = 'api'), 'inc-base',"
        " (select id from business_service where slug = $1), 'open', $2 returning id",
        SERVICE,
        dt.datetime(2026, 3, 1, 10, tzinfo=dt.UTC),
    )
    cost = await con.fetchval(
        "insert into cost_record (service_id, category, period_start, period_end, amount,"
        " currency) select id, 'cloud', '2026-01-01', '2026-02-01', 10, 'EUR'"
        " from business_service where slug = $1 returning id",
        SERVICE,
    )
    return {"incident": incident, "target": target.id, "cost": cost}


async def make_sources(con: dbmod.Connection) -> None:
    """A source of each webhook kind (SOURCES)."""
    for source in SOURCES.values():
        await sources.create_source(con, source=SourceIn.model_validate(source))


# Webhooks --------------------------------------------------------------------------------------

#: One source per kind, each mapping its fixture's service to SERVICE.
SOURCES: dict[str, Json] = {
    "github": {"name": "gh", "kind": "github", "secret": "gh-secret-3f9a1c",
               "service_rules": [{"match": {"repository": "Codertocat/Hello-World"},
                                  "service": SERVICE}]},
    "gitlab": {"name": "gl", "kind": "gitlab", "secret": "gl-secret-77b2e0",
               "service_rules": [{"match": {"project": "vedant8600317/test"},
                                  "service": SERVICE}]},
    "pagerduty": {"name": "pd", "kind": "pagerduty", "secret": "pd-secret-0c4d8e",
                  "service_rules": [{"match": {"service_id": "PA2P440"}, "service": SERVICE}]},
    "opsgenie": {"name": "og", "kind": "opsgenie", "secret": "og-secret-a61f5b",
                 "service_rules": [{"match": {"ref": "Server"}, "service": SERVICE}]},
    "alertmanager": {"name": "am", "kind": "alertmanager", "secret": "am-secret-5e2c71",
                     "service_rules": [{"match": {"host": "andromeda"}, "service": SERVICE}]},
    "jira": {"name": "jira", "kind": "jira", "secret": "jira-secret-9d03aa",
             "service_rules": [{"match": {"project": "TES"}, "service": SERVICE}],
             "incident_issue_types": ["story"]},
    "cdevents": {"name": "cde", "kind": "cdevents", "secret": "cde-secret-41b7d2",
                 "service_rules": [{"match": {"ref": "mySubject123"}, "service": SERVICE}]},
    "argocd": {"name": "argo", "kind": "argocd", "secret": "argo-secret-6a90e3",
               "service_rules": [{"match": {"ref": "checkout"}, "service": SERVICE}]},
}  # fmt: skip

#: A real payload of each kind that the service applies, and the event header it comes with.
BASE_FIXTURES: dict[str, str] = {
    "github": "github/deployment/octokit_payload.json",
    "gitlab": "gitlab/deployment/zulip_deployment_hook__succeeded.json",
    "pagerduty": "pagerduty/v3/incident.triggered/zulip_triggered_v3.json",
    "opsgenie": "opsgenie/Create/zulip_create.json",
    "alertmanager": "alertmanager/firing/zulip_alert.json",
    "jira": "jira/jira_issue_created/mattermost_webhook-issue-created.json",
    "cdevents": "cdevents/v0.5.1/service_deployed.json",
    "argocd": "argocd/sync_succeeded/checkout_succeeded.json",
}
EVENT_HEADERS: dict[str, Headers] = {
    "github": {"X-GitHub-Event": "deployment"},
    "gitlab": {"X-Gitlab-Event": "Deployment Hook"},
    # CloudEvents binary mode: the attributes of BASE_FIXTURES' CDEvent.
    "cdevents": {"ce-type": "dev.cdevents.service.deployed.0.3.0", "ce-specversion": "1.0",
                 "ce-id": "271069a8-fc18-44f1-b38f-9d70a1695819",
                 "ce-source": "/event/source/123", "content-type": "application/json"},
}  # fmt: skip
KINDS = tuple(SOURCES)


def base_payload(kind: str) -> Json:
    payload: Json = copy.deepcopy(fixture(BASE_FIXTURES[kind]))
    return payload


def hmac_hex(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signed(kind: str, body: bytes, *, secret: str | None = None, event: bool = True) -> Headers:
    """The headers the tool sends with `body`, proving the source's secret (or `secret`);
    with the event header of BASE_FIXTURES' payload unless `event` is false."""
    key = secret if secret is not None else SOURCES[kind]["secret"]
    headers: Headers = {"Content-Type": "application/json"}
    if event:
        headers.update(EVENT_HEADERS.get(kind, {}))
    delivery = str(uuid.uuid4())
    if kind == "github":
        headers["X-Hub-Signature-256"] = "sha256=" + hmac_hex(key, body)
        headers["X-GitHub-Delivery"] = delivery
    elif kind == "gitlab":
        headers["X-Gitlab-Token"] = key
        headers["X-Gitlab-Event-UUID"] = delivery
    elif kind == "pagerduty":
        headers["X-PagerDuty-Signature"] = "v1=" + hmac_hex(key, body)
        headers["X-Webhook-Id"] = delivery
    else:
        headers["Authorization"] = f"Bearer {key}"
    return headers


def webhook_path(kind: str) -> str:
    return f"/v1/webhooks/{SOURCES[kind]['name']}"


# Paths inside JSON values -------------------------------------------------------------------


def _steps(path: str) -> list[str | int]:
    return [int(p) if p.isdigit() else p for p in path.split(".")] if path else []


def set_at(value: Any, path: str, new: Any) -> Any:
    """A copy of value with the member at the dotted path (list indexes as numbers) set."""
    out = copy.deepcopy(value)
    *parents, last = _steps(path)
    node = out
    for step in parents:
        node = node[step]
    node[last] = new
    return out


def delete_at(value: Any, path: str) -> Any:
    """A copy of value without the member at the dotted path."""
    out = copy.deepcopy(value)
    *parents, last = _steps(path)
    node = out
    for step in parents:
        node = node[step]
    del node[last]
    return out


# Answers -------------------------------------------------------------------------------------


def assert_problem(resp: httpx.Response, status: int, fields: list[str] | None = None) -> Json:
    """An RFC 9457 answer with `status`; `fields` lists errors[].field exactly, in order."""
    assert resp.status_code == status, (resp.status_code, resp.text[:500])
    assert resp.headers["content-type"] == PROBLEM, resp.headers.get("content-type")
    body: Json = resp.json()
    assert body["status"] == status
    assert body["type"].startswith("https://kpi.example/problems/")
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    assert "Traceback" not in resp.text
    if fields is not None:
        assert [e["field"] for e in body.get("errors", [])] == fields, body
        for error in body.get("errors", []):
            assert error["pointer"].startswith("#"), error
            assert error["detail"], error
    return body
