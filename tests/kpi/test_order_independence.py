"""Every figure is the same whatever order and however many times the tools' deliveries
arrive, and equals the plain-Python reference (tests/reference, which imports nothing from the
service).

Hypothesis draws incident and change histories for 2-3 services (tests/kpi/histories.py:
outages overlapping and crossing the window's edges, acknowledge, unacknowledge, resolve and
reopen, rollbacks, hotfixes, canceled and running changes, explicit causes by id and by
commit, inferred causes on both sides of the 240-minute edge, commits with times, incidents
echoed 29-31 days earlier). Each history is sent through the real endpoints twice in one
database transaction, under two prefixes: once in the tools' time order, once shuffled with
random repeats. Then the service report of every service, every incident and every change
(with its linked incidents) of both copies must agree with each other and with the reference,
and every incident's timeline must hold each step the tool sent once, at the tool's time.

Examples: KPI_PROPERTY_EXAMPLES (default 30); with CI=true, 10 derandomized examples and no
shrinking, so the test stays well under a minute.
"""

from __future__ import annotations

import datetime as dt
import math
import os
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, Phase, given, note, settings
from hypothesis import strategies as st

from service import db as dbmod
from service.config import Settings
from tests.conftest import app_client
from tests.kpi.histories import (
    T0,
    Copy,
    Request,
    Scenario,
    in_time_order,
    iso,
    scenarios,
    shuffled,
)
from tests.reference import figures
from tests.reference.links import links
from tests.reference.timeline import distinct_steps, fold_change, fold_incident

IN_CI = os.environ.get("CI", "").lower() == "true"
EXAMPLES = 10 if IN_CI else int(os.environ.get("KPI_PROPERTY_EXAMPLES", "30"))
PROPERTY = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize=IN_CI,
    print_blob=True,
    report_multiple_bugs=False,
    # Shrinking a failure takes minutes: a CI run reports the example as drawn.
    phases=[Phase.explicit, Phase.generate, *([] if IN_CI else [Phase.shrink])],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                           HealthCheck.data_too_large],
)  # fmt: skip
#: Figures are sums and quotients of the same seconds: only rounding may differ.
REL, ABS = 1e-9, 1e-6


@dataclass
class Clock:
    now: dt.datetime = T0

    def __call__(self) -> dt.datetime:
        return self.now


@dataclass
class App:
    client: httpx.AsyncClient
    clock: Clock
    headers: dict[str, str]


@pytest.fixture
async def app(
    con: dbmod.Connection, settings: Settings, admin: dict[str, str]
) -> AsyncIterator[App]:
    clock = Clock()
    unlimited = settings.model_copy(update={"rate_limit_per_second": 0})
    async with app_client(con, unlimited, clock) as client:
        yield App(client, clock, admin)


# Sending --------------------------------------------------------------------------------------


async def send(app: App, copy: Copy, requests: list[Request], problems: list[str]) -> None:
    for service in copy.services():
        body = {"slug": service.slug, "name": service.slug, "tier": service.tier,
                "outage_threshold": service.outage_threshold,
                "revenue_per_hour": service.revenue_per_hour}  # fmt: skip
        resp = await app.client.post("/v1/services", json=body, headers=app.headers)
        assert resp.status_code == 201, resp.text
    ids: dict[str, int] = {}
    for request in requests:
        if request.kind == "event":
            if request.incident not in ids:
                continue  # its creation was refused: reported already
            path = f"/v1/incidents/{ids[request.incident]}/events"
        else:
            path = "/v1/incidents" if request.kind == "incident" else "/v1/changes"
        resp = await app.client.post(path, json=request.body, headers=app.headers)
        if resp.status_code != 200:
            problems.append(f"{copy.prefix}: POST {path} {request.body} -> {resp.status_code} "
                            f"{resp.text[:300]}")  # fmt: skip
        elif request.kind == "incident":
            assert request.incident is not None
            ids[request.incident] = resp.json()["id"]


# What the service says, and what the reference says, in one shape ------------------------------


def instant(value: str | None) -> dt.datetime | None:
    return None if value is None else dt.datetime.fromisoformat(value)


def durations_of(d: Mapping[str, Any]) -> dict[str, Any]:
    return {k: d[k] for k in ("n", "mean", "median", "p90")}


def group_of(g: Mapping[str, Any]) -> dict[str, Any]:
    keys = ("mttd", "mtta", "mttr", "time_to_restore")
    return {"incidents": g["incidents"], **{k: durations_of(g[k]) for k in keys}}


def report_of(r: Mapping[str, Any], strip: Any) -> dict[str, Any]:
    a, i, d = r["availability"], r["incidents"], r["dora"]
    banded = ("deployments_per_week", "lead_time", "change_failure_rate", "recovery_time")
    return {
        "availability": {k: a[k] for k in ("availability", "outage_minutes", "outage_incidents",
                                           "target", "error_budget_remaining", "burn_rate")},
        "incidents": {
            "overall": group_of(i["overall"]),
            "by_severity": {g["severity"]: group_of(g) for g in i["by_severity"]},
            "by_service": {strip(g["service"]): group_of(g) for g in i["by_service"]},
            "recurrence_rate": i["recurrence_rate"],
            "users_affected": i["users_affected"],
            "downtime_cost": i["downtime_cost"],
        },
        "dora": {
            "deployments": d["deployments"],
            **{k: {"value": d[k]["value"], "band": d[k]["band"]} for k in banded},
            "rework_rate": d["rework_rate"],
        },
    }  # fmt: skip


@dataclass
class Observed:
    reports: dict[str, Any]
    incidents: dict[str, Any]
    changes: dict[str, Any]
    timelines: dict[str, list[tuple[str, dt.datetime]]]


async def observe(app: App, copy: Copy) -> Observed:
    sc = copy.scenario

    def strip(name: str) -> str:
        return name.removeprefix(copy.prefix)

    def get(resp: httpx.Response) -> Any:
        assert resp.status_code == 200, resp.text
        return resp.json()

    window = {"from": sc.start.isoformat(), "to": sc.end.isoformat()}
    reports, listed_incidents, listed_changes = {}, [], []
    for service in copy.services():
        path = f"/v1/services/{service.slug}/report"
        report = get(await app.client.get(path, params=window, headers=app.headers))
        reports[strip(service.slug)] = report_of(report, strip)
        only = {"service": service.slug, "limit": "1000"}
        listed_incidents += get(await app.client.get("/v1/incidents", params=only,
                                                     headers=app.headers))  # fmt: skip
        listed_changes += get(await app.client.get("/v1/changes", params=only,
                                                   headers=app.headers))  # fmt: skip
    change_names = {c["id"]: strip(c["external_id"]) for c in listed_changes}
    incident_names = {i["id"]: strip(i["external_id"]) for i in listed_incidents}
    tokens = {copy.sha(t): t for p in sc.changes for t in [p.head, *(c for c, _ in p.commits)]
              if t is not None}  # fmt: skip
    incidents, timelines = {}, {}
    for i in listed_incidents:
        cause = i["caused_by_change_id"]
        incidents[incident_names[i["id"]]] = {
            "status": i["status"],
            **{k: instant(i[k]) for k in ("started_at", "detected_at", "acknowledged_at",
                                          "resolved_at")},
            "link": (change_names.get(cause, cause), i["link_kind"]),
        }  # fmt: skip
        detail = get(await app.client.get(f"/v1/incidents/{i['id']}", headers=app.headers))
        timelines[incident_names[i["id"]]] = [
            (e["what"], dt.datetime.fromisoformat(e["at"])) for e in detail["timeline"]
        ]
    changes = {}
    for c in listed_changes:
        detail = get(await app.client.get(f"/v1/changes/{c['id']}", headers=app.headers))
        changes[change_names[c["id"]]] = {
            "status": c["status"], "kind": c["kind"], "is_production": c["is_production"],
            "started_at": instant(c["started_at"]), "finished_at": instant(c["finished_at"]),
            "commit_sha": tokens.get(c["commit_sha"], c["commit_sha"]),
            "incidents": sorted(incident_names.get(n, str(n)) for n in detail["incidents"]),
        }  # fmt: skip
    return Observed(reports, incidents, changes, timelines)


def asdict(value: Any) -> Any:
    """Reference dataclasses as the nested dicts `report_of` gives."""
    if hasattr(value, "__dataclass_fields__"):
        return {k: asdict(getattr(value, k)) for k in value.__dataclass_fields__}
    if isinstance(value, dict):
        return {k: asdict(v) for k, v in value.items()}
    return value


def expected(copy: Copy) -> Observed:
    services, incidents, changes = copy.services(), copy.incidents(), copy.changes()
    sc = copy.scenario

    def strip(name: str) -> str:
        return name.removeprefix(copy.prefix)

    reports = {}
    for service in services:
        ref = figures.service_report(service, incidents, changes, sc.start, sc.end, sc.now)
        report = asdict(ref)
        overall = report["incidents"]["overall"]
        report["incidents"]["by_service"] = {strip(service.slug): overall} if overall[
            "incidents"] else {}  # fmt: skip
        reports[strip(service.slug)] = report
    linked = links(incidents, changes)
    records = {}
    for incident in incidents:
        rec = fold_incident(incident)
        link = linked.get(incident.external_id)
        records[strip(incident.external_id)] = {
            "status": rec.status, "started_at": rec.started_at, "detected_at": rec.detected_at,
            "acknowledged_at": rec.acknowledged_at, "resolved_at": rec.resolved_at,
            "link": (strip(link.change), link.kind) if link else (None, None),
        }  # fmt: skip
    change_records = {}
    for change, plan in zip(changes, sc.changes, strict=True):
        rec = fold_change(change)
        change_records[plan.name] = {
            "status": rec.status, "kind": change.kind, "is_production": rec.is_production,
            "started_at": rec.started_at, "finished_at": rec.finished_at,
            "commit_sha": plan.head,
            "incidents": sorted(strip(i) for i, link in linked.items()
                                if link.change == change.external_id),
        }  # fmt: skip
    return Observed(reports, records, change_records, {})


# Comparing ------------------------------------------------------------------------------------


def differences(path: str, got: Any, want: Any) -> list[str]:
    if isinstance(got, dict) and isinstance(want, dict):
        out = []
        for key in sorted(set(got) | set(want), key=str):
            if key not in got or key not in want:
                out.append(f"{path}.{key}: {got.get(key, '<missing>')!r} != "
                           f"{want.get(key, '<missing>')!r}")  # fmt: skip
            else:
                out += differences(f"{path}.{key}", got[key], want[key])
        return out
    numbers = (int, float)
    if isinstance(got, numbers) and isinstance(want, numbers) and not isinstance(got, bool):
        same = math.isclose(got, want, rel_tol=REL, abs_tol=ABS)
    else:
        same = got == want
    return [] if same else [f"{path}: {got!r} != {want!r}"]


def timeline_problems(copy: Copy, observed: Observed) -> list[str]:
    """One timeline entry per fact, each at a time the tool gave, every status step there."""
    out = []
    for incident in copy.incidents():
        name = incident.external_id.removeprefix(copy.prefix)
        entries = observed.timelines.get(name, [])
        given = {incident.detected_at, incident.started_at, *(s.at for s in incident.steps)}
        sent = {(s.kind, s.at) for s in distinct_steps(incident) if s.kind != "updated"}
        if len(set(entries)) != len(entries):
            out.append(f"{copy.prefix}{name}: a step is on the timeline twice: {steps(entries)}")
        if stray := [e for e in entries if e[1] not in given]:
            out.append(f"{copy.prefix}{name}: steps at times the tool never gave: {steps(stray)}")
        if missing := sent - set(entries):
            out.append(f"{copy.prefix}{name}: steps sent but not on the timeline: "
                       f"{steps(sorted(missing))}")  # fmt: skip
    return out


def steps(entries: Iterable[tuple[str, dt.datetime]]) -> str:
    return ", ".join(f"{what} {iso(at)}" for what, at in entries)


def describe(scenario: Scenario, requests: list[Request]) -> str:
    lines = [f"window [{scenario.start}, {scenario.end}), now {scenario.now}"]
    lines += [f"  {r.at:%m-%d %H:%M} {r.kind:8} {r.body}" for r in requests]
    return "\n".join(lines)


@st.composite
def cases(draw: st.DrawFn) -> tuple[Scenario, list[int], list[tuple[int, int]]]:
    scenario = draw(scenarios())
    n = len(Copy(scenario, "").requests())
    order = draw(st.permutations(range(n)))
    repeats = draw(st.lists(st.tuples(st.integers(0, max(n - 1, 0)), st.integers(0, 2**16)),
                            max_size=8 if n else 0))  # fmt: skip
    return scenario, order, repeats


@PROPERTY
@given(case=cases())
async def test_figures_do_not_depend_on_arrival_order_and_equal_the_reference(
    con: dbmod.Connection, app: App, case: tuple[Scenario, list[int], list[tuple[int, int]]]
) -> None:
    scenario, order, repeats = case
    in_order, mixed = Copy(scenario, "a-"), Copy(scenario, "b-")
    sent_in_order = in_time_order(in_order.requests())
    sent_mixed = shuffled(mixed.requests(), order, repeats)
    note("in time order:\n" + describe(scenario, sent_in_order))
    note("shuffled, with repeats:\n" + describe(scenario, sent_mixed))
    app.clock.now = scenario.now
    tr = con.transaction()
    await tr.start()
    try:
        problems: list[str] = []
        await send(app, in_order, sent_in_order, problems)
        await send(app, mixed, sent_mixed, problems)
        first, second = await observe(app, in_order), await observe(app, mixed)
    finally:
        await tr.rollback()
    for name, got, want in (
        ("in order vs shuffled", first, second),
        ("in order vs reference", first, expected(in_order)),
        ("shuffled vs reference", second, expected(mixed)),
    ):
        for part in ("reports", "incidents", "changes"):
            problems += differences(f"{name}: {part}", getattr(got, part), getattr(want, part))
    problems += timeline_problems(in_order, first) + timeline_problems(mixed, second)
    assert not problems, f"{len(problems)} differences:\n" + "\n".join(problems[:80])
