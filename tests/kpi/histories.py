"""Generated incident and change histories of a few services, and the API requests that state
them: in the tools' time order, or shuffled with duplicates.

A scenario is drawn once and stated twice, under two prefixes (service slugs, external ids and
commit shas all differ), so both copies live side by side in one database. Every instant lies
on a 5-minute grid over two days (incidents echoed 29-31 days earlier aside), so outages
overlap, touch and cross the window's edges, and inferred links fall on both sides of their
240-minute edge. Change finish times are distinct per service and explicit causes name one
change, so no link is left to a tie the definitions do not settle.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from tests.reference.history import Change, ChangeReport, Commit, Incident, Service, Step

T0 = dt.datetime(2026, 3, 2, tzinfo=dt.UTC)
GRID = dt.timedelta(minutes=5)
HORIZON = 576  # grid steps: every tool time lies in [T0, T0 + 48 h]
SEVERITIES = ("sev1", "sev2", "sev3", "sev4")
#: The steps an incident may take next, by its status.
NEXT_STEPS = {
    "open": ("acknowledged", "resolved", "updated"),
    "acknowledged": ("unacknowledged", "resolved", "updated"),
    "resolved": ("reopened",),
}
STATUS_AFTER = {"acknowledged": "acknowledged", "unacknowledged": "open", "resolved": "resolved",
                "reopened": "open"}  # fmt: skip


def tick(k: int) -> dt.datetime:
    return T0 + k * GRID


def sha(prefix: str, token: str) -> str:
    """The commit sha a copy uses for an abstract commit."""
    return hashlib.sha1(f"{prefix}{token}".encode()).hexdigest()


def iso(at: dt.datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class ChangePlan:
    name: str
    service: str
    environment: str
    kind: str
    started: dt.datetime
    finished: dt.datetime
    final: str | None  # None: only its start is ever reported
    report_start: bool
    head: str | None  # commit token of commit_sha
    commits: tuple[tuple[str, dt.datetime], ...]  # commits[] sent: (token, committed at)


@dataclass(frozen=True)
class IncidentPlan:
    name: str
    service: str
    severity: str
    started: dt.datetime | None  # stated impact start
    detected: dt.datetime
    steps: tuple[tuple[str, dt.datetime], ...]  # after the detection, in the tool's order
    trigger_again: bool  # the triggered step is also sent through /events
    problem_key: str | None
    cause: tuple[str, str] | None  # ("id", change name) or ("sha", commit token)
    users_affected: int | None
    cost_estimate: float | None


@dataclass(frozen=True)
class Scenario:
    services: tuple[Service, ...]
    changes: tuple[ChangePlan, ...]
    incidents: tuple[IncidentPlan, ...]
    start: dt.datetime
    end: dt.datetime
    now: dt.datetime


# Strategies ----------------------------------------------------------------------------------


@st.composite
def change_plans(draw: st.DrawFn, service: str, ks: list[int], first: int) -> list[ChangePlan]:
    plans: list[ChangePlan] = []
    for n, k in enumerate(ks):
        name = f"chg{first + n}"
        finished = tick(k)
        started = finished - draw(st.integers(1, 12)) * GRID
        final = draw(st.sampled_from(("success", "success", "failed", "rolled_back", "canceled",
                                      None)))  # fmt: skip
        commits = [
            (f"{name}-c{i}", started - draw(st.integers(1, 400)) * dt.timedelta(minutes=15))
            for i in range(draw(st.integers(0, 3)))
        ]
        earlier = [token for p in plans for token, _ in p.commits]
        head_kind = draw(st.sampled_from(("none", "own", "listed", "earlier")))
        head: str | None = None
        if head_kind == "earlier" and earlier:
            head = draw(st.sampled_from(earlier))  # a redeploy of a commit shipped before
        elif head_kind != "none":
            head = f"{name}-head"
            if head_kind == "listed":
                commits.append((head, started - draw(st.integers(1, 40)) * GRID))
        plans.append(ChangePlan(
            name=name, service=service,
            environment=draw(st.sampled_from(("production", "prod", "staging"))),
            kind=draw(st.sampled_from(("deploy", "deploy", "hotfix", "rollback", "config"))),
            started=started, finished=finished, final=final,
            report_start=final is None or draw(st.booleans()), head=head, commits=tuple(commits),
        ))  # fmt: skip
    return plans


@st.composite
def lifecycles(draw: st.DrawFn, detected: dt.datetime) -> tuple[tuple[str, dt.datetime], ...]:
    status, at, steps = "open", detected, []
    for _ in range(draw(st.integers(0, 6))):
        kind = draw(st.sampled_from(NEXT_STEPS[status]))
        at += draw(st.integers(1, 36)) * GRID
        if at > tick(HORIZON):
            break
        steps.append((kind, at))
        status = STATUS_AFTER.get(kind, status)
    return tuple(steps)


@st.composite
def incident_plans(
    draw: st.DrawFn, name: str, services: tuple[Service, ...], changes: list[ChangePlan]
) -> IncidentPlan:
    service = draw(st.sampled_from(services)).slug
    finished_here = [c for c in changes if c.service == service and c.final is not None]
    if finished_here and draw(st.booleans()):
        # Up to 260 minutes after a change finished: across the inferred link's 240-minute edge.
        anchor = draw(st.sampled_from(finished_here)).finished + draw(st.integers(0, 52)) * GRID
    else:
        anchor = tick(draw(st.integers(0, HORIZON)))
    anchor = min(anchor, tick(HORIZON))
    stated_start = draw(st.booleans())
    detected = anchor
    if stated_start:  # detected up to 30 minutes after the impact started
        detected = min(anchor + draw(st.integers(0, 6)) * GRID, tick(HORIZON))
    cause = None
    if changes and draw(st.integers(0, 3)) == 0:
        named = draw(st.sampled_from(changes))
        heads = [c.head for c in changes]
        if named.head is not None and heads.count(named.head) == 1 and draw(st.booleans()):
            cause = ("sha", named.head)
        else:
            cause = ("id", named.name)
    return IncidentPlan(
        name=name, service=service, severity=draw(st.sampled_from(SEVERITIES)),
        started=anchor if stated_start else None, detected=detected,
        steps=draw(lifecycles(detected)), trigger_again=draw(st.booleans()),
        problem_key=draw(st.sampled_from((None, "disk", "dns"))), cause=cause,
        users_affected=draw(st.none() | st.integers(0, 5000)),
        cost_estimate=draw(st.none() | st.sampled_from((0.0, 250.0, 1200.0))),
    )  # fmt: skip


def echo(plan: IncidentPlan, name: str, days: int) -> IncidentPlan:
    """The same problem on the same service `days` earlier, resolved an hour later."""
    started = (plan.started or plan.detected) - dt.timedelta(days=days)
    return IncidentPlan(
        name=name, service=plan.service, severity=plan.severity, started=None, detected=started,
        steps=(("resolved", started + dt.timedelta(hours=1)),), trigger_again=False,
        problem_key=plan.problem_key, cause=None, users_affected=None, cost_estimate=None,
    )  # fmt: skip


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    services = tuple(
        Service(f"svc{i}", tier=draw(st.integers(1, 4)),
                outage_threshold=draw(st.sampled_from(("sev1", "sev2", "sev3"))),
                revenue_per_hour=draw(st.sampled_from((0.0, 120.0, 1250.5))))
        for i in range(draw(st.integers(2, 3)))
    )  # fmt: skip
    changes: list[ChangePlan] = []
    for service in services:
        ks = draw(st.lists(st.integers(0, HORIZON), unique=True, max_size=3))
        changes += draw(change_plans(service.slug, ks, len(changes)))
    incidents = [
        draw(incident_plans(f"inc{i}", services, changes)) for i in range(draw(st.integers(0, 7)))
    ]
    for i in range(draw(st.integers(0, 2)) if incidents else 0):
        days = draw(st.sampled_from((29, 30, 31)))
        incidents.append(echo(draw(st.sampled_from(incidents)), f"old{i}", days))
    start_k = draw(st.integers(-72, HORIZON - 12))
    return Scenario(
        services=services, changes=tuple(changes), incidents=tuple(incidents),
        start=tick(start_k), end=tick(start_k + draw(st.integers(12, HORIZON + 144))),
        now=tick(HORIZON + draw(st.integers(0, 144))),
    )  # fmt: skip


# One copy: the reference's history and the requests ---------------------------------------------


@dataclass(frozen=True)
class Copy:
    """A scenario under a prefix."""

    scenario: Scenario
    prefix: str

    def name(self, name: str) -> str:
        return f"{self.prefix}{name}"

    def sha(self, token: str) -> str:
        return sha(self.prefix, token)

    def cause(self, plan: IncidentPlan) -> str | None:
        if plan.cause is None:
            return None
        kind, ref = plan.cause
        return self.sha(ref) if kind == "sha" else self.name(ref)

    def services(self) -> list[Service]:
        return [
            Service(self.name(s.slug), s.tier, s.outage_threshold, s.revenue_per_hour)
            for s in self.scenario.services
        ]

    def incidents(self) -> list[Incident]:
        return [self._incident(p) for p in self.scenario.incidents]

    def _incident(self, p: IncidentPlan) -> Incident:
        return Incident(
            external_id=self.name(p.name), service=self.name(p.service), severity=p.severity,
            steps=(Step("triggered", p.detected), *(Step(k, at) for k, at in p.steps)),
            detected_at=p.detected, started_at=p.started, problem_key=p.problem_key,
            caused_by=self.cause(p), users_affected=p.users_affected,
            cost_estimate=p.cost_estimate,
        )  # fmt: skip

    def changes(self) -> list[Change]:
        out = []
        for p in self.scenario.changes:
            reports = [ChangeReport("in_progress", p.started)] if p.report_start else []
            if p.final is not None:
                reports.append(ChangeReport(p.final, p.finished))
            out.append(Change(
                external_id=self.name(p.name), service=self.name(p.service),
                environment=p.environment, kind=p.kind, reports=tuple(reports),
                started_at=p.started, commit_sha=self.sha(p.head) if p.head else None,
                commits=tuple(Commit(self.sha(t), at) for t, at in p.commits),
            ))  # fmt: skip
        return out

    def requests(self) -> list[Request]:
        """Every request stating the scenario, changes first, each with the tool's time."""
        out: list[Request] = []
        for p in self.scenario.changes:
            out += self._change_requests(p)
        for p in self.scenario.incidents:
            out += self._incident_requests(p)
        return out

    def _change_requests(self, p: ChangePlan) -> list[Request]:
        common: dict[str, Any] = {
            "external_id": self.name(p.name), "service": self.name(p.service),
            "environment": p.environment, "kind": p.kind, "started_at": iso(p.started),
        }  # fmt: skip
        if p.head is not None:
            common["commit_sha"] = self.sha(p.head)
        commits = [{"sha": self.sha(t), "committed_at": iso(at)} for t, at in p.commits]
        out = []
        if p.report_start:
            body = {**common, "status": "in_progress"}
            if p.final is None:
                body["commits"] = commits
            out.append(Request(p.started, "change", None, body))
        if p.final is not None:
            body = {**common, "status": p.final, "finished_at": iso(p.finished), "commits": commits}
            out.append(Request(p.finished, "change", None, body))
        return out

    def _incident_requests(self, p: IncidentPlan) -> list[Request]:
        external_id = self.name(p.name)
        body: dict[str, Any] = {
            "external_id": external_id, "service": self.name(p.service), "severity": p.severity,
            "detected_at": iso(p.detected),
        }  # fmt: skip
        optional = {
            "started_at": iso(p.started) if p.started else None,
            "problem_key": p.problem_key,
            "caused_by": self.cause(p),
            "users_affected": p.users_affected,
            "cost_estimate": p.cost_estimate,
        }
        body.update({k: v for k, v in optional.items() if v is not None})
        out = [Request(p.detected, "incident", external_id, body)]
        steps = [("triggered", p.detected)] if p.trigger_again else []
        for kind, at in [*steps, *p.steps]:
            event = {"step": kind, "occurred_at": iso(at)}
            if kind == "updated":
                event["note"] = "status page updated"
            out.append(Request(at, "event", external_id, event))
        return out


@dataclass(frozen=True)
class Request:
    at: dt.datetime  # the tool's time of what it states
    kind: str  # incident (POST /v1/incidents), event (its /events), change (POST /v1/changes)
    incident: str | None  # the incident's external id, for incident and event
    body: dict[str, Any]


def in_time_order(requests: list[Request]) -> list[Request]:
    return sorted(requests, key=lambda r: r.at)  # stable: changes first at the same instant


def shuffled(
    requests: list[Request], order: list[int], repeats: list[tuple[int, int]]
) -> list[Request]:
    """`requests` in `order`, each incident created before its first event, then each
    (index, where) of `repeats` sent again somewhere after its first sending."""
    out: list[Request] = []
    created: set[str] = set()
    creations = {r.incident: r for r in requests if r.kind == "incident"}
    for request in (requests[i] for i in order):
        if request.kind == "incident" and request.incident in created:
            continue
        if request.incident is not None and request.incident not in created:
            out.append(creations[request.incident])
            created.add(request.incident)
        if request.kind != "incident":
            out.append(request)
    for index, where in repeats:
        again = requests[index % len(requests)]
        if again.kind == "incident":
            continue  # status open re-sent later would be a reopening, not a repeat
        first = out.index(again)
        out.insert(first + 1 + where % (len(out) - first), again)
    return out
