"""The data the contract tests run against: the demo year (catalog, observations, costs,
incidents, changes, escalations) plus a few sources and tokens, and the keys of those rows so
that generated requests can name rows that exist."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from service import db as dbmod
from service.demo import evaluate_history, load_demo
from service.models.enums import Scope
from service.models.sources import SourceIn
from service.store import sources
from service.usecases import ingestion_pipeline as pipeline
from service.usecases import tokens

#: Which kind of row each path parameter names, per path template of the spec.
PATH_KINDS: dict[str, dict[str, str]] = {
    "/v1/teams/{slug}": {"slug": "team"},
    "/v1/services/{slug}": {"slug": "service"},
    "/v1/services/{slug}/report": {"slug": "service"},
    "/v1/outcomes/{slug}": {"slug": "outcome"},
    "/v1/kpis/{key}": {"key": "kpi"},
    "/v1/kpis/{key}/outcomes": {"key": "kpi"},
    "/v1/kpis/{key}/outcomes/{outcome}": {"key": "kpi", "outcome": "outcome"},
    "/v1/kpis/{key}/services": {"key": "kpi"},
    "/v1/kpis/{key}/services/{service}": {"key": "kpi", "service": "service"},
    "/v1/kpis/{key}/series": {"key": "kpi"},
    "/v1/kpis/{key}/status": {"key": "kpi"},
    "/v1/kpis/{key}/status-history": {"key": "kpi"},
    "/v1/targets/{id}": {"id": "target"},
    "/v1/escalations/{id}": {"id": "escalation"},
    "/v1/escalations/{id}/acknowledge": {"id": "escalation"},
    "/v1/escalations/{id}/resolve": {"id": "escalation"},
    "/v1/incidents/{id}": {"id": "incident"},
    "/v1/incidents/{id}/events": {"id": "incident"},
    "/v1/changes/{id}": {"id": "change"},
    "/v1/webhooks/{source}": {"source": "source"},
    "/v1/sources/{name}": {"name": "source"},
    "/v1/deliveries/{id}": {"id": "delivery"},
    "/v1/deliveries/{id}/replay": {"id": "delivery"},
    "/v1/tokens/{id}": {"id": "spare_token"},
    "/v1/initiatives/{key}": {"key": "initiative"},
    "/v1/initiatives/{key}/review": {"key": "initiative"},
}

_KEYS: dict[str, str] = {
    "team": "select slug from team order by id limit 4",
    "service": "select slug from business_service order by id limit 6",
    "outcome": "select slug from business_outcome order by id limit 4",
    "kpi": "select key from kpi order by id",
    "target": "select id from target order by id limit 4",
    "escalation": "select id from escalation order by id limit 4",
    "incident": "select id from incident order by id limit 3",
    "change": "select id from change order by id limit 3",
    "source": "select name from source order by id",
    "delivery": "select id from delivery order by id limit 3",
    "initiative": "select key from initiative order by id",
}

#: Which kind of row a field of a JSON body names, by field name.
BODY_KINDS: dict[str, str] = {
    "kpi": "kpi",
    "numerator": "kpi",
    "denominator": "kpi",
    "service": "service",
    "team": "team",
    "outcome": "outcome",
    "initiative": "initiative",
}

#: Sources registered, by name: kind. Each one's secret is "<name>-secret".
SOURCES = {
    "github": "github",
    "pagerduty": "pagerduty",
    "gitlab": "gitlab",
    "alerts": "opsgenie",
    "alertmanager": "alertmanager",
    "jira": "jira",
}


def source_auth(name: str) -> dict[str, str]:
    """Headers proving a delivery comes from source `name`, for the kinds checking a token
    (GitHub and PagerDuty sign the body, which is left to fail: a 401)."""
    kind = SOURCES.get(name)
    if kind == "gitlab":
        return {"X-Gitlab-Token": f"{name}-secret"}
    if kind in ("opsgenie", "alertmanager", "jira"):
        return {"Authorization": f"Bearer {name}-secret"}
    return {}


#: A fixed day, so the seeded data (and with it every generated request) is the same each run.
DEMO_DAY = dt.date(2026, 11, 2)


@dataclass
class Seeded:
    """What was seeded: the all-scopes token and the keys of existing rows, by kind."""

    token: str
    token_id: int
    known: dict[str, list[Any]] = field(default_factory=dict)

    def variants(self, path: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        """`params` with one or all of its values replaced by keys of existing rows, or by a
        text no row can have."""
        kinds = PATH_KINDS.get(path, {})
        out: list[dict[str, Any]] = []
        for name, kind in kinds.items():
            for value in self.known.get(kind, []):
                out.append({**params, name: value})
            if isinstance(params.get(name), str):
                # A character Postgres refuses in text (schemathesis leaves control
                # characters out of paths).
                out.append({**params, name: "nul\x00key"})
        if len(kinds) > 1:
            firsts = {name: self.known[kind][0] for name, kind in kinds.items() if self.known[kind]}
            out.append({**params, **firsts})
        return out

    def body_variants(self, body: Any) -> list[Any]:
        """`body` with the fields naming a row (kpi, service, team ...) naming seeded ones."""
        out = []
        for pick in range(3):
            changed = _with_rows(body, self.known, pick)
            if changed != body:
                out.append(changed)
        return out


def _with_rows(value: Any, known: dict[str, list[Any]], pick: int) -> Any:
    if isinstance(value, list):
        return [_with_rows(item, known, pick) for item in value]
    if not isinstance(value, dict):
        return value
    out = {}
    for name, item in value.items():
        rows = known.get(BODY_KINDS.get(name, ""), [])
        if rows and isinstance(item, str):
            out[name] = rows[pick % len(rows)]
        else:
            out[name] = _with_rows(item, known, pick)
    return out


async def seed(con: dbmod.Connection) -> Seeded:
    """Loads the demo data and returns the token and the row keys generated requests may use."""
    await load_demo(con, today=DEMO_DAY)
    now = dt.datetime.combine(DEMO_DAY, dt.time(0), dt.UTC)
    await evaluate_history(con, now, periods_back=3)
    for name, kind in SOURCES.items():
        await sources.create_source(
            con,
            source=SourceIn.model_validate(
                {"name": name, "kind": kind, "secret": f"{name}-secret",
                 "service_rules": [{"match": {"ref": "Checkout"}, "service": "checkout"}]}
            ),
        )  # fmt: skip
    # A delivery kept as unmapped (an event GitLab sends that the service does not use), to
    # replay.
    gitlab = await sources.get_source_with_secret(con, name="gitlab")
    headers = {k.lower(): v for k, v in source_auth("gitlab").items()}
    unmapped = await pipeline.receive(con, gitlab, pipeline.Received(headers, {}, b"{}"))
    spare = [
        (await tokens.create_token(con, name=f"spare-{n}", scopes=[Scope.READ])).id
        for n in range(2)
    ]
    # An id no generated request is likely to name (DELETE /v1/tokens/{id} would revoke it;
    # the map_path_parameters hook also steers generated ids away from it).
    await con.execute("alter table api_token alter column id restart with 7340033")
    token = await tokens.create_token(con, name="contract", scopes=list(Scope))
    known: dict[str, list[Any]] = {"spare_token": spare}
    for kind, statement in _KEYS.items():
        known[kind] = [row[0] for row in await con.fetch(statement)]
    known["unmapped_delivery"] = [unmapped.delivery_id]
    known["delivery"].append(unmapped.delivery_id)
    return Seeded(token=token.token, token_id=token.id, known=known)


#: Set by the session fixture once seeded; the generation hooks read it while drawing cases.
SEEDED: Seeded | None = None
