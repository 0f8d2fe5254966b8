"""OpenSLO v1 in `kpi apply` and `kpi export --openslo`: each example of the specification's
repository applied (or refused, naming the field), and apply, export, apply changing nothing."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from service import db as dbmod
from service.errors import ValidationFailed
from service.models.catalog import KpiIn, TargetIn
from service.models.openslo import DOCUMENT_KINDS
from service.models.openslo_v1alpha import SloDocument as SloV1alpha
from service.store import openslo as kept_documents
from service.usecases import catalog
from service.usecases.catalog import KPIS, SERVICES
from service.usecases.catalog_documents import (
    apply_documents,
    catalog_sections,
    openslo_documents,
)
from service.usecases.catalog_file import ApplyReport, CatalogFile
from service.usecases.openslo_write import export_openslo

EXAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "openslo" / "examples"
OCCURRENCES = EXAMPLES / "budgeting-method" / "occurences-slo.yaml"
TIMESLICES = EXAMPLES / "budgeting-method" / "timeslices-slo.yaml"
RATIO_TIMESLICES = EXAMPLES / "budgeting-method" / "ratio-timeslices.yaml"
LOW_TRAFFIC = EXAMPLES / "treat-low-traffic-as-equally-important" / "timeslices-slo.yaml"


async def apply_text(con: dbmod.Connection, text: str, *, dry_run: bool = False) -> ApplyReport:
    """What `kpi apply` does with a file's text."""
    documents = list(yaml.safe_load_all(text))
    catalog_file = CatalogFile.model_validate(catalog_sections(documents))
    return await apply_documents(con, catalog_file, openslo_documents(documents), dry_run=dry_run)


async def catalog_state(con: dbmod.Connection) -> dict[str, Any]:
    """Everything an apply may change: KPIs, their targets and links, services, kept documents."""
    kpis = await KPIS.list(con)
    return {
        "kpis": [k.model_dump(exclude={"id"}) for k in kpis],
        "targets": [t.model_dump(exclude={"id"}) for t in await catalog.list_targets(con)],
        "links": {k.key: await catalog.service_links(con, kpi=k.key) for k in kpis},
        "services": [s.model_dump(exclude={"id"}) for s in await SERVICES.list(con)],
        "slo_documents": await kept_documents.slo_documents(con),
        "service_documents": await kept_documents.service_documents(con),
    }


async def assert_round_trip(con: dbmod.Connection) -> list[Any]:
    """Export, apply the export: nothing changes, and exporting again writes the same."""
    before = await catalog_state(con)
    exported = await export_openslo(con)
    report = await apply_text(con, yaml.safe_dump_all(exported, sort_keys=False))
    assert report.changes == []
    assert await catalog_state(con) == before
    assert await export_openslo(con) == exported
    for document in exported:  # every document meets the specification's rules
        DOCUMENT_KINDS[document["kind"]].model_validate(document)
    return exported


async def test_occurrences_threshold_example_applies_as_a_ratio_kpi(
    con: dbmod.Connection,
) -> None:
    report = await apply_text(con, OCCURRENCES.read_text())
    created = sorted((c.kind, c.key) for c in report.changes)
    assert created == [
        ("kpi", "search_slo"), ("kpi", "search_slo_good"), ("kpi", "search_slo_total"),
        ("kpi-service", "search_slo -> web-shop"), ("kpi-service", "search_slo_good -> web-shop"),
        ("kpi-service", "search_slo_total -> web-shop"), ("openslo-slo", "search_slo"),
        ("service", "web-shop"), ("target", "search_slo [all] from 1970-01-01"),
    ]  # fmt: skip
    slo = await KPIS.get(con, "search_slo")
    assert (slo.name, slo.kind, slo.unit, slo.cadence) == ("Searching time", "ratio", "share",
                                                           "weekly")  # fmt: skip
    assert (slo.numerator, slo.denominator) == ("search_slo_good", "search_slo_total")
    good = await KPIS.get(con, "search_slo_good")
    assert (good.kind, good.aggregation, good.unit) == ("observed", "sum", "events")
    [target] = await catalog.list_targets(con, kpi="search_slo")
    # A rolling window has no start: the objective holds from the earliest day.
    assert (target.value, target.warning, str(target.effective_from)) == (0.99, None, "1970-01-01")
    shop = await SERVICES.get(con, "web-shop")
    assert (shop.name, shop.tier) == ("web-shop", 4)  # named by the SLO only: least critical
    exported = await assert_round_trip(con)
    assert [d["kind"] for d in exported] == ["Service", "SLO"]
    assert exported[1]["spec"]["objectives"] == [
        {"displayName": "Good experience", "op": "lt", "value": 500.0, "target": 0.99}
    ]
    assert exported[1]["spec"]["indicator"]["spec"] == {
        "thresholdMetric": {"metricSource": {"type": "Any", "spec": {"query": "Any"}}}
    }


async def test_timeslices_example_two_objectives_are_target_and_warning(
    con: dbmod.Connection,
) -> None:
    await apply_text(con, TIMESLICES.read_text())
    slo = await KPIS.get(con, "service_availability")
    # `1m` is a minute (the shorthand's m): the service's shortest period, a day, evaluates it.
    assert slo.cadence == "daily"
    good = await KPIS.get(con, "service_availability_good")
    assert (good.name, good.unit) == ("Reflaction of out availability SLA: good time slices",
                                      "time_slices")  # fmt: skip
    [target] = await catalog.list_targets(con, kpi="service_availability")
    # SLA 0.99 is the looser objective: the target; the internal 0.995 is the warning.
    assert (target.value, target.warning) == (0.99, 0.995)
    assert str(target.effective_from) == "2022-01-01"  # the calendar's start
    exported = await assert_round_trip(con)
    objectives = exported[1]["spec"]["objectives"]
    assert [(o["displayName"], o["target"]) for o in objectives] == [
        ("Internal objective", 0.995), ("SLA", 0.99)
    ]  # fmt: skip
    assert exported[1]["spec"]["timeWindow"] == [
        {"duration": "1m", "isRolling": False,
         "calendar": {"startTime": "2022-01-01 12:00:00", "timeZone": "America/New_York"}}
    ]  # fmt: skip


async def test_low_traffic_timeslices_example_applies_weekly(con: dbmod.Connection) -> None:
    await apply_text(con, LOW_TRAFFIC.read_text())
    slo = await KPIS.get(con, "service_availability")
    assert (slo.name, slo.cadence) == ("SLO for this important service", "weekly")
    [target] = await catalog.list_targets(con, kpi="service_availability")
    assert (target.value, target.warning, str(target.effective_from)) == (
        0.9995, None, "2022-01-01"
    )  # fmt: skip
    exported = await assert_round_trip(con)
    assert exported[0]["metadata"] == {
        "name": "web-availability", "displayName": "web-availability",
        "labels": {"serviceTier": "tier-4"},
    }  # fmt: skip


async def test_ratio_timeslices_example_is_refused_naming_the_budgeting_method(
    con: dbmod.Connection,
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        await apply_text(con, RATIO_TIMESLICES.read_text())
    assert refused.value.detail.startswith(
        "SLO 'main-page': spec.budgetingMethod: RatioTimeslices (the mean of each slice's "
        "ratio) has no equivalent"
    )
    assert refused.value.errors[0].pointer == "#/0/spec/budgetingMethod"
    assert await KPIS.list(con) == []


async def test_the_ratio_kpi_divides_posted_good_by_total_against_its_target(
    con: dbmod.Connection, client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    await apply_text(con, OCCURRENCES.read_text())
    points = [
        {"kpi": f"search_slo_{side}", "service": "web-shop", "ts": ts, "value": value}
        for side, ts, value in (
            ("good", "2026-11-02T10:00:00Z", 990), ("good", "2026-11-03T10:00:00Z", 985),
            ("total", "2026-11-02T10:00:00Z", 1000), ("total", "2026-11-03T10:00:00Z", 1000),
        )
    ]  # fmt: skip
    posted = await client.post("/v1/observations", json=points, headers=admin)
    assert posted.status_code == 200, posted.text
    series = await client.get(
        "/v1/kpis/search_slo/series",
        params={"from": "2026-11-02T00:00:00Z", "to": "2026-11-09T00:00:00Z", "grain": "week"},
        headers=admin,
    )
    # Week of Monday 2026-11-02: (990 + 985) / (1000 + 1000) = 1975 / 2000 = 0.9875,
    # under the objective's 0.99.
    [week] = series.json()["points"]
    assert week["value"] == pytest.approx(0.9875)


PROMETHEUS_FILE = """
teams:
  - slug: shop
    name: Shop team
---
apiVersion: openslo/v1
kind: Service
metadata:
  name: checkout
  displayName: Online checkout
  labels:
    serviceTier: tier-1
    costCentre: retail
spec:
  description: Buying what is in the basket.
---
apiVersion: openslo/v1
kind: SLI
metadata:
  name: checkout-success
spec:
  ratioMetric:
    counter: true
    good:
      metricSource:
        type: Prometheus
        spec:
          query: sum(rate(http_requests_total{job="checkout",code!~"5.."}[{{.window}}]))
    total:
      metricSource:
        type: Prometheus
        spec:
          query: sum(rate(http_requests_total{job="checkout"}[{{.window}}]))
---
apiVersion: openslo/v1
kind: AlertNotificationTarget
metadata:
  name: checkout-on-call
spec:
  target: https://hooks.example.com/checkout
---
apiVersion: openslo/v1
kind: AlertPolicy
metadata:
  name: checkout-burn
spec:
  alertWhenBreaching: true
  conditions:
    - conditionRef: fast-burn
  notificationTargets:
    - targetRef: checkout-on-call
    - kind: AlertNotificationTarget
      metadata:
        name: shop-lead
      spec:
        target: shop-lead@example.com
---
apiVersion: openslo/v1
kind: AlertCondition
metadata:
  name: fast-burn
spec:
  severity: page
  condition:
    kind: burnrate
    op: gte
    threshold: 14.4
    lookbackWindow: 1h
    alertAfter: 5m
---
apiVersion: openslo/v1
kind: SLO
metadata:
  name: checkout-availability
  displayName: Checkout availability
  labels:
    journey: buy
spec:
  service: checkout
  indicatorRef: checkout-success
  timeWindow:
    - duration: 30d
      isRolling: true
  budgetingMethod: Occurrences
  objectives:
    - displayName: Availability
      targetPercent: 99.9
  alertPolicies:
    - alertPolicyRef: checkout-burn
"""


async def test_a_mixed_file_with_references_applies_and_round_trips(
    con: dbmod.Connection,
) -> None:
    first = await apply_text(con, PROMETHEUS_FILE)
    assert ("team", "shop") in {(c.kind, c.key) for c in first.changes}
    checkout = await SERVICES.get(con, "checkout")
    assert (checkout.name, checkout.tier) == ("Online checkout", 1)  # from serviceTier
    slo = await KPIS.get(con, "checkout_availability")
    assert slo.cadence == "daily"  # 30d: evaluated per day
    assert [(s.who, s.channel, s.address) for s in slo.escalation_path] == [
        ("checkout-on-call", "webhook", "https://hooks.example.com/checkout"),
        ("shop-lead", "email", "shop-lead@example.com"),
    ]
    [target] = await catalog.list_targets(con, kpi="checkout_availability")
    assert target.value == 0.999  # targetPercent 99.9 / 100
    assert (await apply_text(con, PROMETHEUS_FILE)).changes == []
    exported = await assert_round_trip(con)
    service, written = exported
    assert service["metadata"]["labels"] == {"costCentre": "retail", "serviceTier": "tier-1"}
    assert service["spec"] == {"description": "Buying what is in the basket."}
    assert written["spec"]["objectives"] == [{"displayName": "Availability", "targetPercent": 99.9}]
    policy = written["spec"]["alertPolicies"][0]
    assert policy["spec"]["conditions"][0]["spec"]["condition"]["threshold"] == 14.4
    assert written["spec"]["indicator"]["metadata"] == {"name": "checkout-success"}


async def test_v1alpha_export_is_what_sloth_reads(con: dbmod.Connection) -> None:
    await apply_text(con, PROMETHEUS_FILE)
    [slo] = await export_openslo(con, "v1alpha")  # SLOs alone: Sloth reads each as an SLO
    assert (slo["apiVersion"], slo["spec"]["service"]) == ("openslo/v1alpha", "checkout")
    SloV1alpha.model_validate(slo)
    assert slo["spec"]["timeWindows"] == [{"unit": "Day", "count": 30, "isRolling": True}]
    [objective] = slo["spec"]["objectives"]
    assert objective["target"] == 0.999
    good = objective["ratioMetrics"]["good"]
    assert (good["source"], good["queryType"]) == ("prometheus", "promql")
    assert (
        good["query"] == 'sum(rate(http_requests_total{job="checkout",code!~"5.."}[{{.window}}]))'
    )


async def test_v1alpha_export_of_a_minute_window_counts_seconds(con: dbmod.Connection) -> None:
    await apply_text(con, TIMESLICES.read_text())
    [slo] = await export_openslo(con, "v1alpha")
    window = slo["spec"]["timeWindows"][0]
    assert (window["unit"], window["count"]) == ("Second", 60)  # 1m = 60 s
    assert [o["target"] for o in slo["spec"]["objectives"]] == [0.995, 0.99]
    assert slo["spec"]["objectives"][0]["ratioMetrics"]["good"] == {
        "source": "any", "queryType": "any", "query": "Any"
    }  # fmt: skip


async def test_bad_over_total_is_a_failure_share_lower_is_better(con: dbmod.Connection) -> None:
    counted = {"spec": {"ratioMetric": {"bad": BAD_METRIC, "total": BAD_METRIC}}}
    objectives = [{"target": 0.99}, {"targetPercent": 99.9}]
    await apply_text(
        con, "teams: []\n---\n" + _slo(indicator=counted, objectives=objectives, timeWindow=WINDOW)
    )
    slo = await KPIS.get(con, "orders")
    assert (slo.numerator, slo.denominator, slo.direction) == (
        "orders_bad", "orders_total", "lower_is_better"
    )  # fmt: skip
    [target] = await catalog.list_targets(con, kpi="orders")
    # Failure shares: 1 - 0.99 = 0.01 is the looser (the target), 1 - 0.999 = 0.001 the warning.
    assert (target.value, target.warning) == (0.01, 0.001)
    exported = await assert_round_trip(con)
    assert exported[1]["spec"]["objectives"] == [{"target": 0.99}, {"targetPercent": 99.9}]
    with pytest.raises(ValidationFailed) as refused:
        await export_openslo(con, "v1alpha")
    assert refused.value.detail == (
        "SLO 'orders': spec.indicator.spec.ratioMetric.bad: v1alpha counts good events only"
    )


def _slo(**spec: Any) -> str:
    document = {
        "apiVersion": "openslo/v1", "kind": "SLO", "metadata": {"name": "orders"},
        "spec": {
            "service": "shop", "budgetingMethod": "Occurrences",
            "indicator": {"spec": {"ratioMetric": {
                "good": {"metricSource": {"type": "Prometheus", "spec": {"query": "good"}}},
                "total": {"metricSource": {"type": "Prometheus", "spec": {"query": "all"}}},
            }}},
            "objectives": [{"target": 0.99}], **spec,
        },
    }  # fmt: skip
    return yaml.safe_dump(document)


WINDOW = [{"duration": "30d", "isRolling": True}]
BAD_METRIC = {"metricSource": {"type": "Prometheus", "spec": {"query": "errors"}}}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (_slo(objectives=[{"target": 0.99, "indicatorRef": "other"}]),
         "SLO 'orders': spec.objectives[0].indicator: composite SLOs have no equivalent"),
        (_slo(indicator={"spec": {"ratioMetric": {"rawType": "success", "raw": BAD_METRIC}}}),
         "SLO 'orders': spec.indicator.spec.ratioMetric.raw: a precomputed ratio cannot be"),
        (_slo(objectives=[{"target": 0.9}, {"target": 0.95}, {"target": 0.99}]),
         "SLO 'orders': spec.objectives[2]: at most two objectives"),
        (_slo(objectives=[{"target": 0.99, "targetPercent": 99}]),
         "SLO 'orders': spec.objectives[0].target: give exactly one of target or targetPercent"),
        (_slo(budgetingMethod="Timeslices"),
         "SLO 'orders': spec.objectives[0].timeSliceTarget: required with Timeslices"),
        (_slo(timeWindow=[{"duration": "4 weeks", "isRolling": True}]),
         "SLO 'orders': spec.timeWindow[0].duration: String should match pattern"),
        (_slo(indicator=None, indicatorRef="missing"),
         "SLO 'orders': spec.indicatorRef: no SLI 'missing' in the file"),
        (_slo(alertPolicies=[{"kind": "AlertPolicy", "metadata": {"name": "p"}, "spec": {
            "alertWhenBreaching": True, "conditions": [{"kind": "AlertCondition"}],
            "notificationTargets": [{"kind": "AlertNotificationTarget",
                                     "metadata": {"name": "ops"}, "spec": {"target": "slack"}}],
        }}]),
         "SLO 'orders': spec.alertPolicies[0].spec.notificationTargets[0].spec.target: 'slack' "
         "is neither an e-mail address nor an http(s) URL"),
        (_slo().replace("  name: orders\n", "  name: orders\n  displayName: '  '\n"),
         "SLO 'orders': metadata.displayName: must not be blank"),
        ("apiVersion: openslo/v1\nkind: Service\nmetadata: {name: shop, displayName: ' '}\n",
         "Service 'shop': metadata.displayName: must not be blank"),
        ("apiVersion: openslo/v1\nkind: Service\nmetadata:\n  name: shop\n  labels: "
         "{serviceTier: gold}\n",
         "Service 'shop': metadata.labels.serviceTier: one of tier-1, tier-2, tier-3, tier-4"),
        ("apiVersion: openslo/v1\nkind: DataSource\nmetadata: {name: prom}\nspec: {type: x}\n",
         "DataSource 'prom': kind: the service runs no queries"),
        ("apiVersion: openslo/v2alpha\nkind: SLO\nmetadata: {name: x}\n",
         "SLO 'x': apiVersion: only openslo/v1 documents are read"),
    ],
)  # fmt: skip
async def test_what_has_no_equivalent_is_refused_naming_document_and_field(
    con: dbmod.Connection, text: str, message: str
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        await apply_text(con, "teams: [{slug: shop, name: Shop}]\n---\n" + text)
    assert refused.value.detail.startswith(message), refused.value.detail
    assert refused.value.errors[0].pointer.startswith("#/1/")
    assert await KPIS.list(con) == []


async def test_a_dry_run_reports_the_documents_and_keeps_nothing(con: dbmod.Connection) -> None:
    preview = await apply_text(con, LOW_TRAFFIC.read_text(), dry_run=True)
    assert len(preview.changes) == 9  # 3 KPIs, 3 links, a target, a service, the SLO kept
    assert await kept_documents.slo_documents(con) == {}
    assert await KPIS.list(con) == []


async def test_cli_applies_exports_and_reapplies_with_no_change(
    database_url: str, tmp_path: Path
) -> None:
    schema = f"kpi_openslo_{secrets.token_hex(4)}"
    mixed = tmp_path / "slos.yaml"
    mixed.write_text(PROMETHEUS_FILE)
    try:
        first = _kpi(database_url, schema, "apply", "-f", str(mixed))
        assert first.returncode == 0, first.stderr
        # team, service, 3 KPIs, 3 links, a target, the kept Service and SLO
        assert first.stdout.splitlines()[-1] == "changed 11, unchanged 0"
        out = tmp_path / "exported.yaml"
        exported = _kpi(database_url, schema, "export", "--openslo", "--out", str(out))
        assert exported.returncode == 0, exported.stderr
        assert [d["kind"] for d in yaml.safe_load_all(out.read_text())] == ["Service", "SLO"]
        again = _kpi(database_url, schema, "apply", "-f", str(out))
        # the same 11 but the team, which the export does not write
        assert again.stdout.splitlines() == ["changed 0, unchanged 10"]
        alpha = _kpi(database_url, schema, "export", "--openslo", "--openslo-version", "v1alpha")
        assert [d["apiVersion"] for d in yaml.safe_load_all(alpha.stdout)] == ["openslo/v1alpha"]
        refused = tmp_path / "refused.yaml"
        refused.write_text(RATIO_TIMESLICES.read_text())
        failed = _kpi(database_url, schema, "apply", "-f", str(refused))
        assert failed.returncode == 1
        assert failed.stderr.startswith("error: SLO 'main-page': spec.budgetingMethod: ")
        assert "  0.spec.budgetingMethod: RatioTimeslices" in failed.stderr
        readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
        section = readme[readme.index("### OpenSLO") :]
        shown = section[section.index("```text\n") + 8 : section.index("```\n", 10)]
        assert failed.stderr == shown  # the README shows what the command prints
    finally:
        con = await dbmod.connect(database_url)
        await con.execute(f'drop schema if exists "{schema}" cascade')
        await con.close()


def _kpi(database_url: str, schema: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KPI_DATABASE_URL": database_url, "KPI_DB_SCHEMA": schema}
    return subprocess.run(
        [sys.executable, "-m", "service.cli", *args],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip


async def test_an_slo_given_twice_is_refused_at_its_second_document(
    con: dbmod.Connection,
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        await apply_text(con, _slo() + "---\n" + _slo())
    assert refused.value.detail == "SLO 'orders': metadata.name: given twice in the file"
    assert refused.value.errors[0].pointer == "#/1/metadata/name"


async def test_export_writes_the_target_and_cadence_the_catalog_holds_now(
    con: dbmod.Connection,
) -> None:
    await apply_text(con, LOW_TRAFFIC.read_text())
    [target] = await catalog.list_targets(con, kpi="service_availability")
    changed = TargetIn.model_validate(
        {**target.model_dump(exclude={"id"}), "value": 0.999, "warning": 0.9995}
    )
    await catalog.replace_target(con, target.id, changed)
    slo = await KPIS.get(con, "service_availability")
    monthly = KpiIn.model_validate({**slo.model_dump(exclude={"id"}), "cadence": "monthly"})
    await KPIS.replace(con, "service_availability", monthly)
    [_, written] = await export_openslo(con)
    # The objective is the target (0.999), the warning a second one like it (0.9995).
    assert written["spec"]["objectives"] == [
        {"displayName": "Objective", "op": "gt", "timeSliceTarget": 0.95,
         "timeSliceWindow": "1m", "target": 0.999},
        {"op": "gt", "timeSliceTarget": 0.95, "timeSliceWindow": "1m", "target": 0.9995},
    ]  # fmt: skip
    assert written["spec"]["timeWindow"] == [
        {"duration": "1M", "isRolling": False,
         "calendar": {"startTime": "2022-01-01 12:00:00", "timeZone": "America/New_York"}}
    ]  # fmt: skip
    # Applied, the export changes only the kept document; from then on it round-trips.
    synced = await apply_text(con, yaml.safe_dump_all(await export_openslo(con)))
    assert [(c.action, c.kind) for c in synced.changes] == [("update", "openslo-slo")]
    await assert_round_trip(con)
    await catalog.delete_target(con, target.id)
    with pytest.raises(ValidationFailed) as refused:
        await export_openslo(con)
    assert refused.value.detail == (
        "SLO 'service-availability': spec.objectives: KPI 'service_availability' has no "
        "overall target to write as its objective: give it one"
    )
