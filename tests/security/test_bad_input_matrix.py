"""Bad input on every write endpoint: refused cleanly, nothing stored.

A table of cases over the write endpoints (observations as JSON and NDJSON, costs, incidents
and their events, changes, the catalog's POST and PUT, catalog apply, webhooks of each source
kind with a valid signature on a bad body, tokens and sources) and over /graphql. Each case
sends one request and checks the exact status, the problem+json answer with the field(s)
`errors[]` names, and that no table gained, lost or changed a row count (a webhook delivery is
logged as `invalid`, README "What happens to a delivery", and nothing else is kept).

Text values (unicode, control characters, NUL, SQL-ish strings) go into every text field:
a value the field takes is stored verbatim (found in a column, and every table still there),
a value it does not take is refused naming the field.

Also here: GraphQL's limits, slow (trickled and stalled) bodies, and values too long for a
Postgres index.
"""

from __future__ import annotations

import asyncio
import functools
import json
import random
import re
import string
import unicodedata
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from service import db as dbmod
from service.config import DEFAULT_MAX_BODY_BYTES, Settings
from service.models.data_sources import DataSourceIn
from service.models.enums import Scope
from service.outbound import AllowList
from service.usecases import data_sources, tokens
from service.usecases.costs import MAX_BATCH_RECORDS
from tests.conftest import app_client
from tests.security.support import (
    KINDS,
    KPI,
    OUTCOME,
    PROBLEM,
    SERVICE,
    SOURCES,
    TEAM,
    UPTIME,
    Headers,
    Json,
    assert_problem,
    base_payload,
    changed,
    delete_at,
    make_catalog,
    make_sources,
    row_counts,
    set_at,
    signed,
    stored_anywhere,
    table_names,
    webhook_path,
)

NDJSON = "application/x-ndjson"


class Raw:
    """A JSON token written as is (1e400, NaN, a 10,000-deep array ...)."""

    def __init__(self, text: str) -> None:
        self.text = text


def encode(value: Any, *, ndjson: bool = False) -> bytes:
    """JSON (or NDJSON, one line per item of a list) with Raw tokens spliced in verbatim."""
    raws: list[str] = []

    def swap(node: Any) -> Any:
        if isinstance(node, Raw):
            raws.append(node.text)
            return f"@@raw{len(raws) - 1}@@"
        if isinstance(node, dict):
            return {k: swap(v) for k, v in node.items()}
        if isinstance(node, list):
            return [swap(v) for v in node]
        return node

    def dump(node: Any) -> str:
        text = json.dumps(swap(node), ensure_ascii=False)
        for i, raw in enumerate(raws):
            text = text.replace(f'"@@raw{i}@@"', raw)
        return text

    if ndjson:
        return "".join(dump(item) + "\n" for item in value).encode()
    return dump(value).encode()


# The write endpoints ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Text:
    """A text field: `free` ones store any text but NUL; the others have a pattern (slug,
    key, sha, currency ...) that none of the odd values below matches. `wrap` builds the
    value sent from the odd text (an e-mail step's address needs an @). `key` marks a field
    that is a JSON object's key rather than a value. `rule` says which free text a name
    takes (service/models/text.py): "any"; "visible" (stored in NFC, no control or format
    characters but the zero-width joiners); "distinct" and "identifier" (no joiners either,
    and an identifier in one script)."""

    path: str
    free: bool
    wrap: Callable[[str], str] | None = None
    key: bool = False
    rule: str = "any"


@dataclass(frozen=True)
class Write:
    name: str
    method: str
    path: str
    base: Any
    #: the request body is a list of items (fields are "0.<name>")
    is_list: bool = False
    ndjson: bool = False
    required: tuple[str, ...] = ()
    wrong_types: tuple[tuple[str, Any], ...] = ()
    #: numeric fields, and whether they have a bound (2**70 is refused) or not
    numbers: tuple[tuple[str, bool], ...] = ()
    instants: tuple[str, ...] = ()
    dates: tuple[str, ...] = ()
    texts: tuple[Text, ...] = ()
    #: field where a 10,000-deep array is put
    deep_field: str = ""
    #: what the base body gets (an escalation that does not exist is 404, once the body is read)
    control: int = 200

    def url(self, ids: dict[str, int]) -> str:
        return self.path.format(**ids)


def free(*paths: str) -> tuple[Text, ...]:
    return tuple(Text(p, True) for p in paths)


def visible(*paths: str) -> tuple[Text, ...]:
    return tuple(Text(p, True, rule="visible") for p in paths)


def patterned(*paths: str) -> tuple[Text, ...]:
    return tuple(Text(p, False) for p in paths)


POINT = {"kpi": KPI, "service": SERVICE, "ts": "2026-03-01T10:00:00Z", "value": 1.5,
         "dimensions": {"region": "eu"}, "source": "scanner"}  # fmt: skip
POINT_FIELDS: dict[str, Any] = {
    "required": ("0.kpi", "0.ts", "0.value"),
    "wrong_types": (("0.value", "12"), ("0.value", True), ("0.value", None),
                    ("0.dimensions", ["region"]), ("0.kpi", 5), ("0.service", {})),
    "numbers": (("0.value", True),),
    "instants": ("0.ts",),
    "texts": (*patterned("0.kpi", "0.service"), *visible("0.source"),
              Text("0.dimensions.region", True, rule="distinct"),
              Text("0.dimensions", True, key=True, rule="identifier")),
    "deep_field": "0.value",
}  # fmt: skip
COST = {"service": SERVICE, "category": "cloud", "period_start": "2026-01-01",
        "period_end": "2026-02-01", "amount": 9120.5, "currency": "EUR", "note": "q1",
        "source": "finance"}  # fmt: skip
INCIDENT = {"external_id": "inc-1", "service": SERVICE, "severity": "sev2", "priority": "P2",
            "status": "open", "title": "Checkout down", "url": "https://x.example/inc/1",
            "started_at": "2026-03-01T10:00:00Z", "detected_at": "2026-03-01T10:01:00Z",
            "users_affected": 10, "cost_estimate": 5.5, "problem_key": "pk-1",
            "caused_by": "abc1234"}  # fmt: skip
EVENT = {"step": "acknowledged", "occurred_at": "2026-03-01T10:05:00Z", "event_id": "ev-1",
         "severity": "sev2", "priority": "P1", "title": "Checkout slow", "users_affected": 3,
         "cost_estimate": 1.0, "problem_key": "pk-2", "caused_by": "chg-9",
         "note": "looking"}  # fmt: skip
CHANGE = {"external_id": "chg-1", "service": SERVICE, "environment": "production",
          "kind": "deploy", "status": "success", "started_at": "2026-03-01T09:00:00Z",
          "finished_at": "2026-03-01T09:10:00Z", "commit_sha": "abcdef1",
          "commits": [{"sha": "abcdef1", "committed_at": "2026-03-01T08:00:00Z"}],
          "title": "Release 7", "url": "https://x.example/chg/1"}  # fmt: skip
TEAM_BODY = {"slug": "ops", "name": "Operations", "email": "ops@example.com"}
SERVICE_BODY = {"slug": "crm", "name": "CRM", "tier": 2, "team": TEAM,
                "business_owner": "sales@example.com", "technology_owner": "it@example.com",
                "revenue_per_hour": 100.0, "users": 10, "outage_threshold": "sev2",
                "depends_on": [SERVICE]}  # fmt: skip
OUTCOME_BODY = {"slug": "growth", "name": "Growth", "description": "More orders",
                "owner": "cfo@example.com"}  # fmt: skip
KPI_BODY = {"key": "latency", "name": "Latency", "strategic_question": "Is it fast?",
            "business_impact": "Conversion", "unit": "ms", "direction": "lower_is_better",
            "aggregation": "avg", "kind": "observed", "cadence": "monthly",
            "business_owner": "cpo@example.com", "technology_owner": "cto@example.com",
            "board_level": False, "tags": ["perf"],
            "escalation_path": [{"who": "oncall", "channel": "email",
                                 "address": "oncall@example.com",
                                 "after_breached_periods": 1,
                                 "after_unacknowledged_minutes": 30}]}  # fmt: skip
TARGET_BODY = {"kpi": KPI, "service": SERVICE, "value": 99.5, "warning": 99.9,
               "effective_from": "2026-02-01", "effective_to": "2026-12-01"}  # fmt: skip
APPLY_BODY = {
    "teams": [{"slug": "ops", "name": "Operations"}],
    "services": [{"slug": "crm", "name": "CRM", "tier": 3, "team": "ops",
                  "depends_on": [SERVICE]}],
    "outcomes": [{"slug": "growth", "name": "Growth"}],
    "kpis": [{"key": "latency", "name": "Latency", "unit": "ms",
              "direction": "lower_is_better", "aggregation": "avg",
              "targets": [{"value": 200, "effective_from": "2026-01-01"}],
              "outcomes": [{"outcome": "growth", "weight": 1}], "services": ["crm"]}],
}  # fmt: skip
INITIATIVE_BODY = {"key": "modernise", "name": "Modernise", "owner": "cto@example.com",
                   "sponsor": "cfo@example.com", "status": "active",
                   "started_on": "2026-01-10", "delivered_on": "2026-03-01", "budget": 1000.0,
                   "currency": "EUR", "review_periods": 3, "services": [SERVICE],
                   "kpis": [{"kpi": KPI, "service": SERVICE, "expected_change": 1.5,
                             "expected_by": "2026-06-30", "rationale": "faster"}]}  # fmt: skip
TOKEN_BODY = {"name": "pipeline", "scopes": ["read", "ingest"]}
BURN_POLICY_BODY = {"objective": 0.999, "rules": [
    {"name": "fast", "severity": "page", "burn_rate": 14.4, "long_window_minutes": 60,
     "short_window_minutes": 5}]}  # fmt: skip
DATA_SOURCE_BODY = {"name": "prom2", "kind": "prometheus", "url": "http://127.0.0.1:9090",
                    "auth": "basic", "username": "grafana", "secret": "s3cr3t-prom"}  # fmt: skip
SOURCE_BODY = {"name": "src2", "kind": "opsgenie", "secret": "s3cr3t-src2", "username": "bot",
               "severity_map": {"P1": "sev1"},
               "service_rules": [{"match": {"ref": "Checkout"}, "service": SERVICE}],
               "production_envs": ["prod"], "incident_issue_types": ["incident"],
               "infer_links": True, "infer_window_minutes": 60}  # fmt: skip


def email(text: str) -> str:
    return f"{text}@example.com"


TEAM_FIELDS: dict[str, Any] = {
    "required": ("slug", "name"),
    "wrong_types": (("name", 5), ("email", ["a@example.com"])),
    "texts": (*patterned("slug"), *visible("name", "email")),
    "deep_field": "name",
}
WRITES: list[Write] = [
    Write("observations", "POST", "/v1/observations", [POINT], is_list=True, **POINT_FIELDS),
    Write("observations-ndjson", "POST", "/v1/observations", [POINT], is_list=True,
          ndjson=True, **POINT_FIELDS),
    Write("costs", "POST", "/v1/costs", [COST], is_list=True,
          required=("0.category", "0.period_start", "0.period_end", "0.amount", "0.currency"),
          wrong_types=(("0.amount", "9120.50"), ("0.amount", False), ("0.currency", 978),
                       ("0.period_start", 20260101)),
          numbers=(("0.amount", True),), dates=("0.period_start", "0.period_end"),
          texts=(*patterned("0.service", "0.category", "0.currency"),
                 *free("0.note", "0.source")),
          deep_field="0.amount"),
    # Budgets take the cost record's shape (a whole month here: January).
    Write("budgets", "POST", "/v1/budgets", [COST], is_list=True,
          required=("0.category", "0.period_start", "0.period_end", "0.amount", "0.currency"),
          wrong_types=(("0.amount", "9120.50"), ("0.amount", False), ("0.currency", 978),
                       ("0.period_start", 20260101)),
          numbers=(("0.amount", True),), dates=("0.period_start", "0.period_end"),
          texts=(*patterned("0.service", "0.category", "0.currency", "0.initiative"),
                 *free("0.note", "0.source")),
          deep_field="0.amount"),
    # Maintenance windows are announced ahead (a start after the wall clock's now).
    Write("maintenance-windows", "POST", f"/v1/services/{SERVICE}/maintenance-windows",
          {"starts_at": "2030-05-01T02:00:00Z", "ends_at": "2030-05-01T04:00:00Z",
           "reason": "database upgrade"},
          required=("starts_at", "ends_at", "reason"),
          wrong_types=(("reason", 7), ("ends_at", "2030-04-01T00:00:00Z")),
          instants=("starts_at", "ends_at"), texts=free("reason"), deep_field="reason"),
    # No window of that id: the body is refused before that is found out (404).
    Write("maintenance-windows-put", "PUT", "/v1/maintenance-windows/9999",
          {"starts_at": "2030-05-01T02:00:00Z", "ends_at": "2030-05-01T04:00:00Z",
           "reason": "database upgrade"},
          required=("starts_at", "ends_at", "reason"), wrong_types=(("reason", 7),),
          instants=("starts_at",), deep_field="reason", control=404),
    Write("error-budget-policy", "PUT", f"/v1/services/{SERVICE}/error-budget-policy",
          {"freeze_when_budget_exhausted": True, "window_days": 30,
           "passing_change_types": ["hotfix", "rollback"]},
          wrong_types=(("window_days", 0), ("passing_change_types", "hotfix"),
                       ("freeze_when_budget_exhausted", [])),
          numbers=(("window_days", True),), texts=patterned("kpi"),
          deep_field="passing_change_types"),
    Write("deploy-gate-override", "POST", f"/v1/services/{SERVICE}/deploy-gate/overrides",
          {"reason": "CVE fix", "change_type": "deploy", "reference": "run 42"},
          required=("reason",), wrong_types=(("change_type", "yolo"), ("reason", [])),
          texts=free("reason", "reference"), deep_field="reason"),
    Write("costs-put", "PUT", "/v1/costs/{cost}", COST,
          required=("category", "period_start", "period_end", "amount", "currency"),
          wrong_types=(("amount", "10"), ("period_end", 20260201)),
          numbers=(("amount", True),), dates=("period_start", "period_end"),
          texts=(*patterned("service", "category", "currency"), *free("note", "source")),
          deep_field="amount"),
    Write("incidents", "POST", "/v1/incidents", INCIDENT,
          required=("external_id", "service"),
          wrong_types=(("severity", "sev9"), ("status", "closed"), ("title", ["x"]),
                       ("users_affected", "many"), ("severity", 2)),
          numbers=(("users_affected", True), ("cost_estimate", True)),
          instants=("started_at", "detected_at", "acknowledged_at", "resolved_at"),
          texts=(*patterned("source", "service"),
                 *free("external_id", "priority", "title", "url", "problem_key", "caused_by")),
          deep_field="title"),
    Write("incident-events", "POST", "/v1/incidents/{incident}/events", EVENT,
          required=("step", "occurred_at"),
          wrong_types=(("step", "exploded"), ("severity", 2), ("note", {"text": "x"})),
          numbers=(("users_affected", True), ("cost_estimate", True)),
          instants=("occurred_at",),
          texts=free("priority", "title", "problem_key", "caused_by", "note"),
          deep_field="note"),
    Write("changes", "POST", "/v1/changes", CHANGE,
          required=("external_id", "service", "status", "commits.0.sha",
                    "commits.0.committed_at"),
          wrong_types=(("kind", "yolo"), ("status", "done"), ("commits", {"sha": "abcdef1"}),
                       ("commits", [{"sha": "abcdef1", "committed_at": "2026-03-01T08:00:00Z"}]
                        * 1001)),
          instants=("started_at", "finished_at", "commits.0.committed_at"),
          texts=(*patterned("source", "service", "commit_sha", "commits.0.sha"),
                 *free("external_id", "environment", "title", "url")),
          deep_field="environment"),
    Write("teams-post", "POST", "/v1/teams", TEAM_BODY, **TEAM_FIELDS),
    Write("teams-put", "PUT", f"/v1/teams/{TEAM}", {**TEAM_BODY, "slug": TEAM}, **TEAM_FIELDS),
    Write("services-post", "POST", "/v1/services", SERVICE_BODY,
          required=("slug", "name", "tier"),
          wrong_types=(("tier", []), ("outage_threshold", "sev0"), ("depends_on", SERVICE),
                       ("depends_on", [SERVICE] * 201)),
          numbers=(("tier", True), ("revenue_per_hour", True), ("users", True)),
          texts=(*patterned("slug", "team", "depends_on.0"),
                 *visible("name", "business_owner", "technology_owner")),
          deep_field="depends_on"),
    Write("services-put", "PUT", f"/v1/services/{SERVICE}",
          {**SERVICE_BODY, "slug": SERVICE, "depends_on": []},
          required=("slug", "name", "tier"), wrong_types=(("tier", {}),),
          numbers=(("tier", True), ("users", True)),
          texts=visible("name", "business_owner"), deep_field="tier"),
    Write("outcomes-post", "POST", "/v1/outcomes", OUTCOME_BODY,
          required=("slug", "name"), wrong_types=(("description", 1.5),),
          texts=(*patterned("slug"), *visible("name", "owner"), *free("description")),
          deep_field="description"),
    Write("outcomes-put", "PUT", f"/v1/outcomes/{OUTCOME}", {**OUTCOME_BODY, "slug": OUTCOME},
          required=("name",), texts=(*visible("name"), *free("description")),
          deep_field="owner"),
    Write("kpis-post", "POST", "/v1/kpis", KPI_BODY,
          required=("key", "name", "unit", "direction", "aggregation",
                    "escalation_path.0.who", "escalation_path.0.channel",
                    "escalation_path.0.address"),
          wrong_types=(("direction", "sideways"), ("kind", "magic"), ("tags", "perf"),
                       ("escalation_path.0.channel", "pigeon"), ("tags", ["t"] * 51)),
          numbers=(("escalation_path.0.after_breached_periods", True),
                   ("escalation_path.0.after_unacknowledged_minutes", True)),
          texts=(*patterned("key"),
                 *free("strategic_question", "business_impact", "unit"),
                 *visible("name", "business_owner", "technology_owner",
                          "escalation_path.0.who"),
                 Text("tags.0", True, rule="identifier"),
                 Text("escalation_path.0.address", True, wrap=email)),
          deep_field="tags"),
    Write("kpis-put", "PUT", f"/v1/kpis/{KPI}",
          {"key": KPI, "name": "Orders placed", "unit": "count",
           "direction": "higher_is_better", "aggregation": "sum"},
          required=("name", "unit"), wrong_types=(("aggregation", "median"),),
          texts=(*visible("name"), *free("unit")), deep_field="name"),
    Write("burn-policy", "PUT", f"/v1/kpis/{UPTIME}/burn-policy", BURN_POLICY_BODY,
          required=("rules.0.name", "rules.0.severity", "rules.0.burn_rate",
                    "rules.0.long_window_minutes", "rules.0.short_window_minutes"),
          wrong_types=(("objective", "high"), ("objective", 1), ("rules.0.severity", "sms"),
                       ("rules", {"name": "fast"}), ("rules", []),
                       ("rules.0.long_window_minutes", 1.5)),
          numbers=(("objective", True), ("rules.0.burn_rate", True),
                   ("rules.0.long_window_minutes", True), ("rules.0.short_window_minutes", True)),
          texts=patterned("rules.0.name"), deep_field="rules"),
    Write("initiatives-post", "POST", "/v1/initiatives", INITIATIVE_BODY,
          required=("key", "name", "started_on", "kpis.0.kpi", "kpis.0.expected_change"),
          wrong_types=(("status", "paused"), ("services", SERVICE), ("review_periods", 0),
                       ("kpis.0.expected_change", "up"), ("services", [SERVICE] * 51)),
          numbers=(("budget", True), ("review_periods", True), ("kpis.0.expected_change", True)),
          dates=("started_on", "kpis.0.expected_by"),
          texts=(*patterned("key", "currency", "services.0", "kpis.0.kpi", "kpis.0.service"),
                 *visible("name", "owner", "sponsor"), *free("kpis.0.rationale")),
          deep_field="kpis"),
    # No initiative of that key: the body is refused before that is found out (404).
    Write("initiatives-put", "PUT", "/v1/initiatives/absent", {**INITIATIVE_BODY, "key": "absent"},
          required=("name", "started_on"), wrong_types=(("budget", "lots"),),
          numbers=(("budget", True),), dates=("delivered_on",), deep_field="services",
          control=404),
    Write("targets-post", "POST", "/v1/targets", TARGET_BODY,
          required=("kpi", "value", "effective_from"),
          wrong_types=(("value", "high"), ("service", 7), ("tier", "one")),
          numbers=(("value", False), ("warning", False), ("tier", True)),
          dates=("effective_from", "effective_to"),
          texts=patterned("kpi", "service"), deep_field="value"),
    Write("targets-put", "PUT", "/v1/targets/{target}", TARGET_BODY,
          required=("kpi", "value", "effective_from"), wrong_types=(("warning", []),),
          numbers=(("value", False),), dates=("effective_from",),
          texts=patterned("kpi"), deep_field="warning"),
    Write("kpi-outcome-link", "PUT", f"/v1/kpis/{KPI}/outcomes/{OUTCOME}",
          {"weight": 2.0, "rationale": "orders earn trust"},
          wrong_types=(("weight", "heavy"), ("rationale", 3)),
          numbers=(("weight", True),), texts=free("rationale"), deep_field="rationale"),
    Write("catalog-apply", "POST", "/v1/catalog/apply", APPLY_BODY,
          required=("teams.0.slug", "teams.0.name", "services.0.tier", "kpis.0.unit",
                    "kpis.0.targets.0.effective_from"),
          wrong_types=(("teams", {"slug": "ops"}), ("kpis.0.direction", "up"),
                       ("services.0.team", 5)),
          numbers=(("services.0.tier", True), ("kpis.0.targets.0.value", False),
                   ("kpis.0.outcomes.0.weight", True)),
          dates=("kpis.0.targets.0.effective_from",),
          texts=(*patterned("teams.0.slug", "kpis.0.key", "kpis.0.services.0"),
                 *visible("teams.0.name", "services.0.name", "outcomes.0.name",
                          "kpis.0.name")),
          deep_field="outcomes"),
    Write("evaluate", "POST", "/v1/evaluate",
          {"kpi": KPI, "period": "2026-03-15T00:00:00Z", "cadence": "monthly"},
          wrong_types=(("cadence", "hourly"), ("kpi", ["orders"])),
          instants=("period",), texts=patterned("kpi"), deep_field="cadence"),
    Write("escalation-acknowledge", "POST", "/v1/escalations/999999/acknowledge",
          {"by": "oncall@example.com", "note": "on it"}, control=404,
          required=("by",), wrong_types=(("by", "a\u0000b"), ("note", "a\u0000b"), ("by", 5)),
          deep_field="note"),
    Write("tokens", "POST", "/v1/tokens", TOKEN_BODY,
          required=("name", "scopes"),
          wrong_types=(("scopes", "read"), ("scopes", []), ("scopes.0", "root"), ("name", 1)),
          texts=visible("name"), deep_field="scopes"),
    Write("sources", "POST", "/v1/sources", SOURCE_BODY,
          required=("name", "kind", "service_rules.0.match", "service_rules.0.service"),
          wrong_types=(("kind", "svn"), ("infer_links", "sometimes"),
                       ("service_rules.0.match", {}), ("severity_map.P1", "sev9"),
                       ("secret", ""), ("production_envs", "prod")),
          numbers=(("infer_window_minutes", True),),
          texts=(*patterned("name", "service_rules.0.service"),
                 *free("secret", "production_envs.0", "incident_issue_types.0",
                       "service_rules.0.match.ref"), *visible("username"),
                 Text("severity_map", True, key=True)),
          deep_field="service_rules"),
    Write("sources-put", "PUT", "/v1/sources/og", {**SOURCE_BODY, "name": "og"},
          required=("name", "kind"), wrong_types=(("infer_window_minutes", "an hour"),),
          numbers=(("infer_window_minutes", True),),
          texts=(*patterned("name"), *free("secret"), *visible("username")),
          deep_field="username"),
    Write("data-sources", "POST", "/v1/data-sources", DATA_SOURCE_BODY,
          required=("name", "url"),
          wrong_types=(("auth", "digest"), ("kind", "graphite"), ("url", 5), ("secret", ""),
                       ("url", "ftp://127.0.0.1:9090")),
          texts=(*patterned("name", "url"), *free("secret"), *visible("username")),
          deep_field="username"),
    Write("data-sources-put", "PUT", "/v1/data-sources/prom", {**DATA_SOURCE_BODY, "name": "prom"},
          required=("name", "url"), wrong_types=(("auth", "digest"),),
          texts=(*patterned("url"), *free("secret"), *visible("username")),
          deep_field="username"),
]  # fmt: skip

#: Odd text: what each field must either store verbatim or refuse naming itself.
ODD_TEXT: dict[str, str] = {
    "emoji": "rocket \U0001f680 fire \U0001f525 dev \U0001f469\u200d\U0001f4bb",
    "rtl": "\u0645\u0631\u062d\u0628\u0627 \u202eevil\u202c \u05e9\u05dc\u05d5\u05dd",
    "combining": "e\u0301 Z\u0351\u0352\u0353a\u0300\u0316lgo\u20dd",
    "control": "bell\u0007 esc\u001b[31m tab\tvt\u000bend",
    "nul": "before\u0000after",
    "sql-drop": "'; drop table team; --",
    "sql-hex": "\\x00",
    "sql-param": "$1",
    "sql-format": "%s",
}

INSTANT_ERRORS = {
    "zoneless": "2026-03-01T10:00:00",
    "year-0": "0000-01-01T00:00:00Z",
    "year-10000": "10000-01-01T00:00:00Z",
    "year-1900": "1900-01-01T00:00:00Z",
    "year-2200": "2200-01-01T00:00:00Z",
    "feb-30": "2026-02-30T10:00:00Z",
    "words": "yesterday at noon",
    "offset-overflow": "9999-12-31T23:59:59-14:00",
}
DATE_ERRORS = {
    "year-0": "0000-01-01",
    "year-10000": "10000-01-01",
    "feb-30": "2026-02-30",
    "words": "next tuesday",
}
DEEP = Raw("[" * 10_000 + "]" * 10_000)
NUMBER_ERRORS: dict[str, Any] = {
    "1e400": Raw("1e400"),
    "minus-1e400": Raw("-1e400"),
    "NaN-token": Raw("NaN"),
    "Infinity-token": Raw("Infinity"),
    "minus-Infinity-token": Raw("-Infinity"),
    "NaN-string": "NaN",
    "Infinity-string": "Infinity",
}


# Cases ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    id: str
    write: Write
    #: the body, or what makes it (big ones are made when their case runs)
    body: bytes | Callable[[], bytes]
    status: int
    #: errors[].field exactly; None when the answer names no field (413, 415)
    fields: list[str] | None
    content_type: str | None = "application/json"
    chunked: bool = False

    def content(self) -> bytes:
        return self.body if isinstance(self.body, bytes) else self.body()


def content_type(write: Write) -> str:
    return NDJSON if write.ndjson else "application/json"


def body_of(write: Write, value: Any) -> bytes:
    return encode(value, ndjson=write.ndjson)


def whole_body_field(write: Write) -> list[str]:
    """Where a body that cannot be read is blamed: the document, or for NDJSON its line."""
    return ["0"] if write.ndjson else [""]


def generic_cases(w: Write) -> list[Case]:
    ct = content_type(w)
    whole = whole_body_field(w)
    cases = [
        Case("malformed-json", w, body_of(w, w.base)[:-3] if not w.ndjson else b'{"kpi":\n',
             422, whole, ct),
        Case("raw-control-character", w,
             body_of(w, w.base).replace(b'"', b'"\x01', 1), 422, whole, ct),
        Case("invalid-utf8", w, body_of(w, w.base).replace(b'"', b'"\xff\xfe', 1),
             422, whole, ct),
        Case("lone-surrogate-escape", w, body_of(w, w.base).replace(b'"', b'"\\ud800', 1),
             422, whole, ct),
        Case("deep-nesting-10000", w, DEEP.text.encode() + (b"\n" if w.ndjson else b""),
             422, whole, ct),
        Case("deep-nesting-in-field", w, body_of(w, set_at(w.base, w.deep_field, DEEP)),
             422, whole, ct),
        Case("unknown-field", w, body_of(w, set_at(w.base, _item(w, "zzz_unknown"), 1)),
             422, [_item(w, "zzz_unknown")], ct),
        Case("wrong-top-level-type", w,
             b"{}" if w.is_list and not w.ndjson else (b"[]\n" if w.ndjson else b"[]"),
             422, whole, ct),
        Case("scalar-body", w, b"null\n" if w.ndjson else b'"text"', 422, whole, ct),
        Case("content-type-missing", w, body_of(w, w.base), 415, None, None),
        Case("content-type-text", w, body_of(w, w.base), 415, None, "text/plain"),
        Case("content-type-form", w, body_of(w, w.base), 415, None,
             "application/x-www-form-urlencoded"),
        Case("content-type-xml", w, body_of(w, w.base), 415, None, "application/xml"),
    ]  # fmt: skip
    if not w.ndjson:
        cases.append(Case("empty-body", w, b"", 422, [""], ct))
        big = functools.partial(_oversized, w)
        cases.append(Case("oversized-body", w, big, 413, None, ct))
        cases.append(Case("oversized-body-chunked", w, big, 413, None, ct, chunked=True))
    else:
        line = encode(set_at(POINT, "source", "x" * (64 * 1024 + 1)))
        cases.append(Case("ndjson-line-over-64KiB", w, line + b"\n", 413, None, ct))
        cases.append(Case("json-batch-sent-as-ndjson", w, encode(w.base), 422, ["0"], ct))
    return cases


def _item(w: Write, name: str) -> str:
    return f"0.{name}" if w.is_list else name


#: The text field each endpoint's oversized body is padded in (default: title, else name).
OVERSIZE_FIELD = {
    "observations": "0.source",
    "costs": "0.note",
    "budgets": "0.note",
    "maintenance-windows": "reason",
    "maintenance-windows-put": "reason",
    "error-budget-policy": "kpi",
    "deploy-gate-override": "reason",
    "incident-events": "note",
    "kpi-outcome-link": "rationale",
    "targets-post": "kpi",
    "targets-put": "kpi",
    "sources": "username",
    "data-sources": "username",
    "data-sources-put": "username",
    "catalog-apply": "teams.0.name",
    "burn-policy": "rules.0.name",
}


def _oversized(w: Write) -> bytes:
    """A body of the endpoint's shape, one byte over KPI_MAX_BODY_BYTES."""
    text_field = OVERSIZE_FIELD.get(w.name, "title" if "title" in w.base else "name")
    padded = encode(set_at(w.base, text_field, ""))
    filler = DEFAULT_MAX_BODY_BYTES + 1 - len(padded)
    return encode(set_at(w.base, text_field, "x" * filler))


def field_cases(w: Write) -> list[Case]:
    ct = content_type(w)

    def case(label: str, name: str, value: Any) -> Case:
        return Case(f"{label}-{name}", w, body_of(w, set_at(w.base, name, value)), 422, [name], ct)

    cases = [
        Case(f"missing-{name}", w, body_of(w, delete_at(w.base, name)), 422, [name], ct)
        for name in w.required
    ]
    cases += [case(f"wrong-type-{i}", name, value) for i, (name, value) in enumerate(w.wrong_types)]
    for name, bounded in w.numbers:
        values = {**NUMBER_ERRORS, **({"2**70": 2**70} if bounded else {})}
        cases += [case(f"number-{label}", name, value) for label, value in values.items()]
    for name in w.instants:
        cases += [case(f"instant-{label}", name, v) for label, v in INSTANT_ERRORS.items()]
    for name in w.dates:
        cases += [case(f"date-{label}", name, v) for label, v in DATE_ERRORS.items()]
    return cases


def _points(n: int) -> list[Json]:
    """n distinct points (one a second from 10:00)."""
    return [
        set_at(POINT, "ts", f"2026-03-01T{10 + i // 3600:02d}:{i // 60 % 60:02d}:{i % 60:02d}Z")
        for i in range(n)
    ]


def _bad_after_good() -> bytes:
    return encode([*_points(6_000), set_at(POINT, "ts", "2026-03-01T10:00:00")], ndjson=True)


def _records(n: int) -> bytes:
    return encode([set_at(COST, "category", f"c{i}") for i in range(n)])


def batch_cases() -> list[Case]:
    obs, ndjson, costs = WRITES[0], WRITES[1], WRITES[2]
    return [
        Case("batch-over-10000-points", obs, lambda: encode(_points(10_001)), 413, None),
        Case(
            "bad-point-after-good-ones",
            obs,
            encode([*_points(3), set_at(POINT, "value", "x")]),
            422,
            ["3.value"],
        ),
        # Over NDJSON_CHUNK good lines are copied before the bad one is read: still atomic.
        Case("bad-line-after-6000-good-ones", ndjson, _bad_after_good, 422, ["6000.ts"], NDJSON),
        Case("batch-over-10000-records", costs, lambda: _records(MAX_BATCH_RECORDS + 1), 413, None),
    ]


def _cases() -> list[Case]:
    out = []
    for w in WRITES:
        out += generic_cases(w) + field_cases(w)
    return out + batch_cases()


CASES = _cases()


def case_id(case: Case) -> str:
    return f"{case.write.name}:{case.id}"


@dataclass(frozen=True)
class World:
    api: httpx.AsyncClient
    ids: dict[str, int]
    admin: Headers
    reader: Headers


@pytest.fixture(scope="module")
async def world(session_con: dbmod.Connection, db_schema: str) -> AsyncIterator[World]:
    """The catalog, a source of each webhook kind, tokens and one app, made once for the
    module inside a transaction rolled back at its end. Each case's own transaction (`con`)
    is then a savepoint in it, rolled back after the case: cases stay independent, and the
    hundreds of them do not each pay for building the catalog and the app."""
    outer = session_con.transaction()
    await outer.start()
    try:
        ids = await make_catalog(session_con)
        await make_sources(session_con)
        await data_sources.create_data_source(
            session_con,
            DataSourceIn(name="prom", url="http://127.0.0.1:9090"),
            allow=AllowList.parse(["127.0.0.1"]),
        )
        admin = await tokens.create_token(session_con, name="admin", scopes=[Scope.ADMIN])
        reader = await tokens.create_token(session_con, name="reader", scopes=[Scope.READ])
        # One token sends ~2,000 requests, and one client address hundreds of refused
        # webhook requests; a stalled upload is given up after 1 s; the webhook fixtures'
        # signed times (years ago) are not checked here.
        settings = Settings(
            db_schema=db_schema, rate_limit_per_second=0, body_read_timeout_seconds=1,
            webhook_client_refusals_per_second=0, webhook_source_rejections_per_second=0,
            webhook_event_time_tolerance_seconds=0, outbound_allow=["127.0.0.1"],
        )  # fmt: skip
        async with app_client(session_con, settings) as client:
            yield World(
                client,
                ids,
                {"Authorization": f"Bearer {admin.token}"},
                {"Authorization": f"Bearer {reader.token}"},
            )
    finally:
        await outer.rollback()


@pytest.fixture
def api(world: World, con: dbmod.Connection) -> httpx.AsyncClient:
    """The module's client, once this case's transaction has begun."""
    return world.api


@pytest.fixture
def ids(world: World) -> dict[str, int]:
    return world.ids


@pytest.fixture
def hooks(world: World) -> dict[str, int]:
    return world.ids


@pytest.fixture
def admin(world: World) -> Headers:
    return world.admin


@pytest.fixture
def reader(world: World) -> Headers:
    return world.reader


def test_the_matrix_is_big_and_ids_are_unique() -> None:
    names = [case_id(c) for c in CASES]
    assert len(names) == len(set(names))
    total = len(CASES) + len(TEXT_CASES) + len(WEBHOOK_CASES) + len(GRAPHQL_CASES)
    assert total >= 150, total


@pytest.mark.parametrize("write", WRITES, ids=lambda w: w.name)
async def test_the_base_body_is_accepted(
    api: httpx.AsyncClient, admin: Headers, ids: dict[str, int], write: Write
) -> None:
    """The control: each case below breaks one thing of a body the endpoint takes."""
    resp = await api.request(
        write.method,
        write.url(ids),
        content=body_of(write, write.base),
        headers={**admin, "Content-Type": content_type(write)},
    )
    expected = 201 if write.method == "POST" and write.control == 200 else write.control
    assert resp.status_code in (200, expected), resp.text


async def _chunks(body: bytes, size: int = 1024 * 1024) -> AsyncIterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


@pytest.mark.parametrize("case", CASES, ids=case_id)
async def test_bad_input_is_refused_and_nothing_is_stored(
    api: httpx.AsyncClient,
    admin: Headers,
    con: dbmod.Connection,
    ids: dict[str, int],
    case: Case,
) -> None:
    before, tables = await row_counts(con), await table_names(con)
    headers = dict(admin)
    if case.content_type is not None:
        headers["Content-Type"] = case.content_type
    body = case.content()
    content: bytes | AsyncIterator[bytes] = _chunks(body) if case.chunked else body
    resp = await api.request(
        case.write.method, case.write.url(ids), content=content, headers=headers
    )
    assert_problem(resp, case.status, case.fields)
    assert changed(before, await row_counts(con)) == {}
    assert await table_names(con) == tables


# Odd text in every text field -----------------------------------------------------------------


@dataclass(frozen=True)
class TextCase:
    write: Write
    text: Text
    label: str
    value: str

    @property
    def id(self) -> str:
        return f"{self.write.name}:{self.text.path}:{self.label}"

    def sent(self) -> str:
        wrap = self.text.wrap
        return self.value if wrap is None else wrap(self.value)

    def kept(self) -> str:
        """The value as stored: names are kept in NFC."""
        sent = self.sent()
        return sent if self.text.rule == "any" else unicodedata.normalize("NFC", sent)

    def body(self) -> Any:
        if self.text.key:
            return set_at(self.write.base, self.text.path, {self.sent(): _key_value(self)})
        return set_at(self.write.base, self.text.path, self.sent())

    def refused_field(self) -> str | None:
        """The field a refusal names, or None when the value is stored."""
        refused = _REFUSED_BY_RULE[self.text.rule]
        if self.text.free and "\x00" not in self.value and self.label not in refused:
            return None
        if self.text.key:
            return f"{self.text.path}.{self.sent()}.[key]"
        return self.text.path


#: The odd texts each rule refuses: control characters and direction overrides (format
#: characters) for every name, the emoji's zero-width joiner for values telling series apart.
_REFUSED_BY_RULE = {
    "any": set(),
    "visible": {"rtl", "control"},
    "distinct": {"rtl", "control", "emoji"},
    "identifier": {"rtl", "control", "emoji"},
}


def _key_value(case: TextCase) -> str:
    return "sev1" if case.text.path == "severity_map" else "eu"


TEXT_CASES = [
    TextCase(w, t, label, value)
    for w in WRITES
    for t in w.texts
    for label, value in ODD_TEXT.items()
    # The NDJSON twin of the JSON batch reads points alike: its NUL cases suffice there.
    if not (w.ndjson and label != "nul")
]


@pytest.mark.parametrize("case", TEXT_CASES, ids=lambda c: c.id)
async def test_odd_text_is_stored_verbatim_or_refused_naming_the_field(
    api: httpx.AsyncClient,
    admin: Headers,
    con: dbmod.Connection,
    ids: dict[str, int],
    case: TextCase,
) -> None:
    w = case.write
    before, tables = await row_counts(con), await table_names(con)
    resp = await api.request(
        w.method,
        w.url(ids),
        content=body_of(w, case.body()),
        headers={**admin, "Content-Type": content_type(w)},
    )
    blamed = case.refused_field()
    if blamed is not None:
        assert_problem(resp, 422, [blamed])
        assert changed(before, await row_counts(con)) == {}
    else:
        assert resp.status_code in (200, 201), resp.text
        assert resp.headers["content-type"] == "application/json"
        # Stored as sent (names in NFC): some column (or JSON member) holds exactly that.
        assert await stored_anywhere(con, case.kept()), case.kept()
    # Never executed: every table is still there, and none lost rows.
    assert await table_names(con) >= tables
    assert await con.fetchval("select to_regclass('team') is not null")
    after = await row_counts(con)
    assert all(after[name] >= count for name, count in before.items()), changed(before, after)


# Webhooks: a valid signature on a bad body -----------------------------------------------------


@dataclass(frozen=True)
class WebhookCase:
    kind: str
    label: str
    body: bytes | Callable[[], bytes]
    status: int
    fields: list[str] | None
    #: the delivery log's new row: "invalid" for a 422, none for a 413
    logged: str | None = "invalid"

    @property
    def id(self) -> str:
        return f"{self.kind}:{self.label}"


#: Per kind: (label, mutation of the real payload, errors[].field).
SHAPE_ERRORS: dict[str, list[tuple[str, Callable[[Json], Any], str]]] = {
    "github": [
        ("missing-deployment", lambda p: delete_at(p, "deployment"), "deployment"),
        ("id-is-bool", lambda p: set_at(p, "deployment.id", True), "deployment.id"),
        ("id-is-2**70", lambda p: set_at(p, "deployment.id", 2**70), "deployment.id"),
        ("zoneless-created_at", lambda p: set_at(p, "deployment.created_at",
                                                 "2019-05-15T15:20:53"), "deployment.created_at"),
        ("year-0-created_at", lambda p: set_at(p, "deployment.created_at",
                                               "0000-05-15T15:20:53Z"), "deployment.created_at"),
        ("repository-name-is-number", lambda p: set_at(p, "repository.full_name", 5),
         "repository.full_name"),
        ("deployment-is-list", lambda p: set_at(p, "deployment", []), "deployment"),
    ],
    "gitlab": [
        ("missing-status", lambda p: delete_at(p, "status"), "status"),
        ("deployment_id-is-list", lambda p: set_at(p, "deployment_id", []), "deployment_id"),
        ("zoneless-status_changed_at", lambda p: set_at(p, "status_changed_at",
                                                        "2025-05-02 11:55:16"),
         "status_changed_at"),
        ("project-is-string", lambda p: set_at(p, "project", "vedant8600317/test"), "project"),
        ("short_sha-not-hex", lambda p: set_at(delete_at(p, "commit_url"), "short_sha",
                                               "'; drop table change; --"), "short_sha"),
    ],
    "pagerduty": [
        ("missing-event-id", lambda p: delete_at(p, "event.id"), "event.id"),
        ("data-is-string", lambda p: set_at(p, "event.data", "x"), "event.data"),
        ("zoneless-occurred_at", lambda p: set_at(p, "event.occurred_at",
                                                  "2021-06-04T13:35:29.781"),
         "event.occurred_at"),
        ("service-is-number", lambda p: set_at(p, "event.data.service", 5),
         "event.data.service"),
        ("event-is-list", lambda p: set_at(p, "event", [1]), "event"),
        ("id-too-long", lambda p: set_at(p, "event.data.id", "P" * 201), "event.data"),
    ],
    "opsgenie": [
        ("missing-alertId", lambda p: delete_at(p, "alert.alertId"), "alert.alertId"),
        ("createdAt-NaN-string", lambda p: set_at(p, "alert.createdAt", "NaN"),
         "alert.createdAt"),
        ("createdAt-1e300", lambda p: set_at(p, "alert.createdAt", 1e300), "alert.createdAt"),
        ("createdAt-2**70", lambda p: set_at(p, "alert.createdAt", 2**70), "alert.createdAt"),
        ("priority-is-list", lambda p: set_at(p, "alert.priority", []), "alert.priority"),
        ("alert-is-string", lambda p: set_at(p, "alert", "x"), "alert"),
    ],
    "alertmanager": [
        ("missing-alerts", lambda p: delete_at(p, "alerts"), "alerts"),
        ("zoneless-startsAt", lambda p: set_at(p, "alerts.0.startsAt", "2020-02-06T00:17:58"),
         "alerts.0.startsAt"),
        ("label-is-number", lambda p: set_at(p, "alerts.0.labels", {"host": 1}),
         "alerts.0.labels"),
        ("status-unknown", lambda p: set_at(p, "alerts.0.status", "smouldering"),
         "alerts.0.status"),
        ("year-10000-startsAt", lambda p: set_at(p, "alerts.1.startsAt",
                                                 "10000-02-06T00:17:58Z"), "alerts.1.startsAt"),
    ],
    "jira": [
        ("missing-timestamp", lambda p: delete_at(p, "timestamp"), "timestamp"),
        ("timestamp-is-string", lambda p: set_at(p, "timestamp", "1550286113023"), "timestamp"),
        ("timestamp-2**70", lambda p: set_at(p, "timestamp", 2**70), "timestamp"),
        ("zoneless-created", lambda p: set_at(p, "issue.fields.created",
                                              "2019-02-15T19:01:52.971"),
         "issue.fields.created"),
        ("fields-is-list", lambda p: set_at(p, "issue.fields", []), "issue.fields"),
        ("missing-issue-key", lambda p: delete_at(p, "issue.key"), "issue.key"),
    ],
    "cdevents": [
        ("missing-subject-id", lambda p: delete_at(p, "subject.id"), "subject.id"),
        ("zoneless-timestamp", lambda p: set_at(p, "context.timestamp", "2023-03-20T14:27:05"),
         "context.timestamp"),
        ("environment-id-is-number", lambda p: set_at(p, "subject.content.environment.id", 5),
         "subject.content.environment.id"),
        ("subject-is-list", lambda p: set_at(p, "subject", []), "subject"),
        # The ce-type header names service.deployed.
        ("type-is-not-ce-type", lambda p: set_at(p, "context.type",
                                                 "dev.cdevents.service.upgraded.0.3.0"),
         "context.type"),
    ],
    "argocd": [
        ("missing-application", lambda p: delete_at(p, "application"), "application"),
        ("phase-unknown", lambda p: set_at(p, "phase", "Syncing"), "phase"),
        ("zoneless-startedAt", lambda p: set_at(p, "startedAt", "2026-03-02T10:00:05"),
         "startedAt"),
        ("destination-is-list", lambda p: set_at(p, "destination", []), "destination"),
    ],
}  # fmt: skip

#: Per kind: the text field of the payload that becomes the record's title (or environment).
WEBHOOK_TEXT: dict[str, str] = {
    "github": "deployment.description",
    "gitlab": "environment",
    "pagerduty": "event.data.title",
    "opsgenie": "alert.message",
    "alertmanager": "alerts.0.annotations.summary",
    "jira": "issue.fields.summary",
    "cdevents": "subject.content.artifactId",
    "argocd": "url",
}


def _oversized_delivery(kind: str) -> bytes:
    return encode(set_at(base_payload(kind), WEBHOOK_TEXT[kind], "x" * DEFAULT_MAX_BODY_BYTES))


def _webhook_cases() -> list[WebhookCase]:
    out = []
    for kind in KINDS:
        base = base_payload(kind)
        raw = encode(base)
        out += [
            WebhookCase(kind, "malformed-json", raw[:-2], 422, [""]),
            WebhookCase(kind, "empty-body", b"", 422, [""]),
            WebhookCase(kind, "array-body", b"[]", 422, [""]),
            WebhookCase(kind, "deep-nesting-10000", DEEP.text.encode(), 422, [""]),
            WebhookCase(kind, "NaN-token", raw.replace(b"{", b'{"nan": NaN, ', 1), 422, [""]),
            WebhookCase(kind, "1e400", raw.replace(b"{", b'{"big": 1e400, ', 1), 422, [""]),
            WebhookCase(kind, "invalid-utf8", raw.replace(b'"', b'"\xff', 1), 422, [""]),
            WebhookCase(kind, "lone-surrogate", raw.replace(b'"', b'"\\udc00', 1), 422, [""]),
            # Postgres text cannot hold NUL: refused as a whole (the pipeline cannot tell
            # which member it was), logged as invalid.
            WebhookCase(kind, "nul-in-text", encode(set_at(base, WEBHOOK_TEXT[kind], "a\0b")),
                        422, [""]),
            WebhookCase(kind, "oversized-body", functools.partial(_oversized_delivery, kind),
                        413, None, logged=None),
        ]  # fmt: skip
        for label, mutate, blamed in SHAPE_ERRORS[kind]:
            out.append(WebhookCase(kind, label, encode(mutate(base)), 422, [blamed]))
    return out


WEBHOOK_CASES = _webhook_cases()


@pytest.mark.parametrize("case", WEBHOOK_CASES, ids=lambda c: c.id)
async def test_bad_webhook_body_with_a_valid_signature(
    api: httpx.AsyncClient,
    admin: Headers,
    con: dbmod.Connection,
    hooks: dict[str, int],
    case: WebhookCase,
) -> None:
    before = await row_counts(con)
    body = case.body if isinstance(case.body, bytes) else case.body()
    resp = await api.post(webhook_path(case.kind), content=body, headers=signed(case.kind, body))
    assert_problem(resp, case.status, case.fields)
    after = await row_counts(con)
    if case.logged is None:
        assert changed(before, after) == {}
        return
    # Logged (README: "logged as invalid") and nothing else kept.
    assert changed(before, after) == {"delivery": (before["delivery"], before["delivery"] + 1)}
    row = await con.fetchrow("select status, body from delivery order by id desc limit 1")
    assert row is not None and row["status"] == case.logged
    assert bytes(row["body"] or b"") == body


@pytest.mark.parametrize("kind", KINDS)
async def test_bad_body_with_a_wrong_signature_is_rejected_unread(
    api: httpx.AsyncClient,
    admin: Headers,
    con: dbmod.Connection,
    hooks: dict[str, int],
    kind: str,
) -> None:
    body = b'{"half": '
    before = await row_counts(con)
    resp = await api.post(
        webhook_path(kind), content=body, headers=signed(kind, body, secret="not-the-secret")
    )
    assert_problem(resp, 401)
    # Counted for its source, with a sample of its headers: the delivery log is untouched.
    assert changed(before, await row_counts(con)) == {
        "webhook_rejection": (0, 1), "webhook_rejection_sample": (0, 1)
    }  # fmt: skip
    row = await con.fetchrow(
        "select r.count, x.headers from webhook_rejection r join source s on s.id = r.source_id"
        " join webhook_rejection_sample x using (source_id, reason) where s.name = $1",
        SOURCES[kind]["name"],
    )
    assert row is not None and row["count"] == 1
    assert row["headers"]["content-length"] == str(len(body))


WEBHOOK_TEXT_CASES = [(kind, label) for kind in KINDS for label in ODD_TEXT if label != "nul"]


@pytest.mark.parametrize(
    ("kind", "label"), WEBHOOK_TEXT_CASES, ids=[f"{k}:{lab}" for k, lab in WEBHOOK_TEXT_CASES]
)
async def test_odd_text_in_a_webhook_is_stored_verbatim(
    api: httpx.AsyncClient,
    admin: Headers,
    con: dbmod.Connection,
    hooks: dict[str, int],
    kind: str,
    label: str,
) -> None:
    value = ODD_TEXT[label]
    body = encode(set_at(base_payload(kind), WEBHOOK_TEXT[kind], value))
    tables = await table_names(con)
    resp = await api.post(webhook_path(kind), content=body, headers=signed(kind, body))
    assert resp.status_code == 200, resp.text
    assert resp.json()["status"] == "applied"
    table = "change" if kind in ("github", "gitlab", "cdevents", "argocd") else "incident"
    assert table in await stored_anywhere(con, value)
    assert await table_names(con) >= tables


# GraphQL ----------------------------------------------------------------------------------------
#
# The README says queries deeper than 10 levels, with more than 30 aliases or more than 5,000
# tokens "are refused". As it stands a refusal is HTTP 200 with `data: null` and the limit in
# `errors[0].message` (the GraphQL-over-HTTP way for application/json); requests strawberry
# cannot take at all (a JSON array of operations: batching is off, malformed JSON, no query)
# are 400 problem+json. None is a 5xx and none stores anything.


def _depth_query(depth: int) -> str:
    """A query `depth` levels deep: service > dependencies > nodes > dependencies > nodes ...
    > slug (team > slug to make the count), pages of one."""
    pairs, odd = divmod(depth - 1, 2)
    leaf = "team { slug }" if odd else "slug"
    chain = "dependencies(first: 1) { nodes { " * pairs + leaf + " } }" * pairs
    return f'{{ service(slug: "{SERVICE}") {{ {chain} }} }}'


@dataclass(frozen=True)
class GraphQLCase:
    id: str
    body: Any
    status: int
    #: the first error's message contains this (None: the answer is problem+json or data)
    message: str | None = None
    problem: bool = False
    token: str = "reader"
    raw: bool = False
    #: the answer has data (a control within a limit)
    data: bool = False


def _aliases(n: int) -> str:
    return "{ " + " ".join(f"a{i}: teams {{ nodes {{ slug }} }}" for i in range(n)) + " }"


def _tokens(n: int) -> str:
    """A query of n + 19 tokens: a list argument of n strings (duplicated fields would be
    refused by validation before the token count matters)."""
    strings = " ".join(f'"s{i}"' for i in range(n))
    return f"{{ services {{ nodes {{ incidents(status: [{strings}]) {{ nodes {{ id }} }} }} }} }}"


def _introspection_fields(levels: int) -> str:
    inner = "name"
    for _ in range(levels):
        inner = f"fields {{ type {{ {inner} }} }}"
    return f"{{ __schema {{ types {{ {inner} }} }} }}"


GRAPHQL_CASES = [
    GraphQLCase("depth-10-is-served", {"query": _depth_query(10)}, 200, data=True),
    GraphQLCase("depth-11-is-refused", {"query": _depth_query(11)}, 200,
                "exceeds maximum operation depth of 10"),
    GraphQLCase("depth-40-is-refused", {"query": _depth_query(40)}, 200,
                "exceeds maximum operation depth of 10"),
    GraphQLCase("aliases-30-are-served", {"query": _aliases(30)}, 200, data=True),
    GraphQLCase("aliases-31-are-refused", {"query": _aliases(31)}, 200,
                "31 aliases found. Allowed: 30"),
    GraphQLCase("typename-aliases-31", {"query": "{ " + " ".join(
        f"t{i}: __typename" for i in range(31)) + " }"}, 200, "31 aliases found"),
    GraphQLCase("tokens-under-5000-are-served", {"query": _tokens(4_975)}, 200, data=True),
    GraphQLCase("duplicated-fields-4980", {"query": "{ teams { nodes { " + " ".join(
        ["slug"] * 4_980) + " } } }"}, 200, "Validation aborted"),
    GraphQLCase("tokens-over-5000-are-refused", {"query": _tokens(5_000)}, 200,
                "more than 5000 tokens"),
    GraphQLCase("tokens-100000", {"query": _tokens(100_000)}, 200, "more than 5000 tokens"),
    GraphQLCase("introspection-nested-fields", {"query": _introspection_fields(6)}, 200,
                "Maximum introspection depth exceeded"),
    GraphQLCase("introspection-aliases-31", {"query": "{ " + " ".join(
        f"s{i}: __schema {{ queryType {{ name }} }}" for i in range(31)) + " }"}, 200,
        "31 aliases found"),
    GraphQLCase("introspection-ofType-200-deep", {"query": '{ __type(name: "Query") { '
        + "ofType { " * 200 + "name" + " }" * 200 + " } }"}, 200, "nested too deeply"),
    GraphQLCase("batched-operations", [{"query": "{ teams { nodes { slug } } }"}] * 2, 400,
                "Batching is not enabled", problem=True),
    GraphQLCase("batched-empty-array", [], 400, "Batching is not enabled", problem=True),
    GraphQLCase("malformed-json", b'{"query": ', 400, problem=True, raw=True),
    GraphQLCase("query-not-a-string", {"query": 5}, 400, problem=True),
    GraphQLCase("no-query", {"variables": {}}, 400, problem=True),
    GraphQLCase("variables-not-an-object", {"query": "{ teams { nodes { slug } } }",
                                            "variables": "x"}, 400, problem=True),
    GraphQLCase("int-over-32-bits", {"query": "{ incident(id: 99999999999999999999) { id } }"},
                200, "Int cannot represent non 32-bit signed integer value"),
    GraphQLCase("first-over-100", {"query": "{ teams(first: 2147483647) { nodes { slug } } }"},
                200, "first must be between 1 and 100"),
    GraphQLCase("zoneless-period", {"query": '{ scorecard(period: "2026-01-01T00:00:00") '
                                    "{ warnings } }"}, 200, "period: give a time zone offset"),
    GraphQLCase("year-1900-period", {"query": '{ scorecard(period: "1900-01-01T00:00:00Z") '
                                     "{ warnings } }"}, 200, "must be between 1970 and 2200"),
    GraphQLCase("year-0-period", {"query": '{ scorecard(period: "0000-01-01T00:00:00Z") '
                                  "{ warnings } }"}, 200, "year 0 is out of range"),
    GraphQLCase("subscription", {"query": "subscription { teams }"}, 200,
                "subscription operation is not supported"),
    GraphQLCase("fragment-cycle", {"query": "{ teams { nodes { ...A } } } "
                "fragment A on Team { ...B } fragment B on Team { ...A }"}, 200,
                "Cannot spread fragment"),
    GraphQLCase("mutation-with-a-read-token", {"query": 'mutation { deleteKpi(key: "orders") '
                "{ __typename } }"}, 403, "lacks the 'admin' scope"),
]  # fmt: skip


@pytest.mark.parametrize("case", GRAPHQL_CASES, ids=lambda c: c.id)
async def test_graphql_limits_and_refusals(
    api: httpx.AsyncClient,
    admin: Headers,
    reader: Headers,
    con: dbmod.Connection,
    ids: dict[str, int],
    case: GraphQLCase,
) -> None:
    before = await row_counts(con)
    headers = {**(admin if case.token == "admin" else reader), "Content-Type": "application/json"}
    content = case.body if case.raw else json.dumps(case.body).encode()
    resp = await api.post("/graphql", content=content, headers=headers)
    assert resp.status_code == case.status, resp.text[:500]
    assert resp.status_code < 500
    if case.problem:
        problem = assert_problem(resp, case.status)
        assert case.message is None or case.message in problem["detail"], problem
    else:
        assert resp.headers["content-type"] == "application/json"
        body = resp.json()
        if case.data:
            assert body.get("data") is not None, body
            assert "errors" not in body, body
        if case.message is not None:
            assert case.message in body["errors"][0]["message"], body
            assert not body.get("data"), body
    assert changed(before, await row_counts(con)) == {}


async def test_graphql_mutation_with_an_infinite_number_is_a_problem_naming_the_field(
    api: httpx.AsyncClient, admin: Headers, con: dbmod.Connection, ids: dict[str, int]
) -> None:
    before = await row_counts(con)
    query = (
        'mutation { createTarget(input: {kpi: "orders", value: 1e400, effectiveFrom: '
        '"2026-01-01"}) { __typename ... on Problem { errors { field } } } }'
    )
    resp = await api.post("/graphql", json={"query": query}, headers=admin)
    assert resp.status_code == 200, resp.text
    result = resp.json()["data"]["createTarget"]
    assert result == {"__typename": "Problem", "errors": [{"field": "value"}]}
    assert changed(before, await row_counts(con)) == {}


async def test_graphql_body_over_the_limit_is_413(
    api: httpx.AsyncClient, reader: Headers, con: dbmod.Connection
) -> None:
    big = {
        "query": "query($s: String!) { service(slug: $s) { slug } }",
        "variables": {"s": "x" * DEFAULT_MAX_BODY_BYTES},
    }
    resp = await api.post("/graphql", json=big, headers=reader)
    assert_problem(resp, 413)


async def test_graphql_body_nested_10000_deep_is_a_client_error(
    api: httpx.AsyncClient, reader: Headers
) -> None:
    body = b'{"query": "{ teams { nodes { slug } } }", "variables": {"a": ' + DEEP.text.encode()
    resp = await api.post(
        "/graphql", content=body + b"}}", headers={**reader, "Content-Type": "application/json"}
    )
    assert_problem(resp, 400)


# Values too long for an index ---------------------------------------------------------------
#
# Postgres refuses a btree index entry over 2,704 bytes. Values that reach an indexed column
# without a bound of their own (delivery keys, a commit sha, an alert's name, a point's
# dimensions) must be refused (or kept some other way), never make the request a 500 that
# stores nothing and logs no delivery.


def _noise(n: int, seed: int) -> str:
    """n characters that do not compress (Postgres compresses long index entries first)."""
    rng = random.Random(seed)
    return "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(n))


def _wide(n: int, seed: int) -> str:
    """n random four-byte characters (CJK extension B)."""
    rng = random.Random(seed)
    return "".join(chr(rng.randrange(0x20000, 0x2A6E0)) for _ in range(n))


LONG = 3_000

#: (id, endpoint kind or webhook kind, payload mutation, extra headers)
LONG_VALUE_CASES: list[tuple[str, str, Callable[[Any], Any], Headers]] = [
    # Within the documented limits (20 dimensions, names of 60 and values of 200 characters).
    ("observations:three-wide-dimensions", "observations",
     lambda p: set_at(p, "0.dimensions", {_wide(60, i): _wide(200, 10 + i) for i in range(3)}),
     {}),
    ("observations-ndjson:three-wide-dimensions", "observations-ndjson",
     lambda p: set_at(p, "0.dimensions", {_wide(60, i): _wide(200, 10 + i) for i in range(3)}),
     {}),
    ("incidents:idempotency-key", "incidents", lambda p: p, {"Idempotency-Key": _noise(LONG, 1)}),
    ("incident-events:idempotency-key", "incident-events", lambda p: p,
     {"Idempotency-Key": _noise(LONG, 2)}),
    ("changes:idempotency-key", "changes", lambda p: p, {"Idempotency-Key": _noise(LONG, 3)}),
    ("github:delivery-header", "github", lambda p: p, {"X-GitHub-Delivery": _noise(LONG, 4)}),
    ("github:deployment-sha", "github", lambda p: set_at(p, "deployment.sha", _noise(LONG, 5)),
     {}),
    ("gitlab:event-uuid-header", "gitlab", lambda p: p, {"X-Gitlab-Event-UUID": _noise(LONG, 6)}),
    ("pagerduty:webhook-id-header", "pagerduty", lambda p: p, {"X-Webhook-Id": _noise(LONG, 7)}),
    ("pagerduty:event-id", "pagerduty", lambda p: set_at(p, "event.id", _noise(LONG, 8)),
     {"X-Webhook-Id": ""}),
    ("opsgenie:alert-id", "opsgenie", lambda p: set_at(p, "alert.alertId", _noise(LONG, 9)), {}),
    ("jira:issue-id", "jira", lambda p: set_at(p, "issue.id", _noise(LONG, 10)), {}),
    ("alertmanager:alertname", "alertmanager",
     lambda p: set_at(p, "alerts.0.labels.alertname", _noise(LONG, 11)), {}),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "target", "mutate", "extra"), LONG_VALUE_CASES, ids=[c[0] for c in LONG_VALUE_CASES]
)
async def test_a_value_too_long_for_an_index_is_not_a_server_error(
    api: httpx.AsyncClient, admin: Headers, con: dbmod.Connection, hooks: dict[str, int],
    name: str, target: str, mutate: Callable[[Any], Any], extra: Headers,
) -> None:  # fmt: skip
    before = await row_counts(con)
    if target in KINDS:
        body = encode(mutate(base_payload(target)))
        headers = {**signed(target, body), **extra}
        resp = await api.post(webhook_path(target), content=body, headers=headers)
    else:
        write = next(w for w in WRITES if w.name == target)
        headers = {**admin, "Content-Type": content_type(write), **extra}
        resp = await api.request(
            write.method, write.url(hooks), content=body_of(write, mutate(write.base)),
            headers=headers,
        )  # fmt: skip
    assert resp.status_code < 500, resp.text
    if resp.status_code >= 400:
        assert_problem(resp, 422)
        if target not in KINDS:
            assert changed(before, await row_counts(con)) == {}
    if target in KINDS:
        # Whatever the answer, what the tool sent is in the delivery log.
        assert (await row_counts(con))["delivery"] == before["delivery"] + 1


# Slow bodies ------------------------------------------------------------------------------------


async def _trickle(body: bytes, pieces: int, pause: float) -> AsyncIterator[bytes]:
    step = max(1, len(body) // pieces)
    for start in range(0, len(body), step):
        await asyncio.sleep(pause)
        yield body[start : start + step]


async def test_a_trickled_json_batch_holds_no_connection_while_it_arrives(
    api: httpx.AsyncClient, admin: Headers, con: dbmod.Connection, ids: dict[str, int]
) -> None:
    """A slow client's JSON batch is read before a connection is taken: a request arriving
    meanwhile is served at once, and the batch is stored whole when it is complete."""
    body = encode([set_at(POINT, "value", float(i)) for i in range(5)])
    upload = asyncio.create_task(
        api.post(
            "/v1/observations",
            content=_trickle(body, 40, 0.05),
            headers={**admin, "Content-Type": "application/json"},
        )
    )
    await asyncio.sleep(0.2)
    meanwhile = await asyncio.wait_for(api.get("/v1/teams", headers=admin), 1.5)
    assert meanwhile.status_code == 200
    assert not upload.done()
    resp = await upload
    assert resp.status_code == 200, resp.text
    assert resp.json()["inserted"] == 1  # five values of one point: the last one wins


async def test_a_trickled_ndjson_stream_is_stored_whole(
    api: httpx.AsyncClient, admin: Headers, con: dbmod.Connection, ids: dict[str, int]
) -> None:
    points = [set_at(POINT, "ts", f"2026-03-01T10:{i:02d}:00Z") for i in range(10)]
    resp = await api.post(
        "/v1/observations",
        content=_trickle(encode(points, ndjson=True), 10, 0.05),
        headers={**admin, "Content-Type": NDJSON},
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["inserted"] == 10


#: How long a stalled upload may keep its request open before it should be answered.
STALL_BOUND_SECONDS = 2.0


async def _stall(first: bytes) -> AsyncIterator[bytes]:
    yield first
    await asyncio.sleep(3600)
    yield b"]"


@pytest.mark.parametrize("kind", ["json", "ndjson", "webhook"])
async def test_a_stalled_upload_is_answered_in_bounded_time(
    api: httpx.AsyncClient,
    admin: Headers,
    con: dbmod.Connection,
    hooks: dict[str, int],
    kind: str,
) -> None:
    if kind == "webhook":
        path, headers = webhook_path("opsgenie"), signed("opsgenie", b"")
        headers.pop("Content-Type")
    else:
        ct = "application/json" if kind == "json" else NDJSON
        path, headers = "/v1/observations", {**admin, "Content-Type": ct}
    first = encode([POINT], ndjson=True) if kind == "ndjson" else b"[" + encode(POINT)
    try:
        resp = await asyncio.wait_for(
            api.post(path, content=_stall(first), headers=headers), STALL_BOUND_SECONDS
        )
    except TimeoutError:
        pytest.fail(f"no answer {STALL_BOUND_SECONDS} s after the client stopped sending")
    assert resp.status_code == 408
    assert resp.headers["content-type"] == PROBLEM


def test_every_write_endpoint_is_in_the_matrix() -> None:
    """An endpoint that takes a body and is added later fails here until it has its cases."""
    from service.app import all_endpoints

    sent = [(w.method, w.url({"incident": 1, "target": 1, "cost": 1})) for w in WRITES]
    missing = set()
    for e in all_endpoints():
        if e.body is None or e.auth != "token":
            continue
        pattern = re.compile(re.sub(r"\{[^}]*\}", "[^/]+", e.path) + "$")
        if not any(m == e.method and pattern.match(path) for m, path in sent):
            missing.add(f"{e.method} {e.path}")
    # Resolve reads the same body as acknowledge (EscalationAction), which is covered.
    assert missing == {"POST /v1/escalations/{id:int}/resolve"}
    assert set(SOURCES) == set(WEBHOOK_TEXT) == set(SHAPE_ERRORS)
