"""Evaluation, statuses, the scorecard, escalations (with their notifications), the service
report and governance gaps, through the async client."""

from __future__ import annotations

import datetime as dt

import pytest
from kpi_client import AsyncClient, NotFound, ValidationFailed
from kpi_client.models import CostIn, EscalationStepIn, IncidentIn, KpiIn, TargetIn

from tests.clients.catalog_data import at, make_catalog

HOOK = "https://hooks.example/kpi"


async def breached_signups(kpi: AsyncClient) -> None:
    """`signups` (board level, monthly, target 100, a webhook escalation step) at 50 in
    January 2031."""
    await make_catalog(kpi)
    await kpi.create_kpi(
        KpiIn(
            key="signups",
            name="Signups",
            unit="count",
            direction="higher_is_better",
            aggregation="sum",
            cadence="monthly",
            board_level=True,
            business_owner="growth@example.com",
            technology_owner="web@example.com",
            escalation_path=[EscalationStepIn(who="ops", channel="webhook", address=HOOK)],
        )
    )
    await kpi.create_target(TargetIn(kpi="signups", value=100, effective_from=dt.date(2031, 1, 1)))
    await kpi.ingest_observations([{"kpi": "signups", "ts": at(2031, 1, 10), "value": 50}])


async def test_evaluate_status_history_and_scorecard(kpi: AsyncClient) -> None:
    await breached_signups(kpi)
    computed = await kpi.get_kpi_status("signups", period=at(2031, 1, 15))
    assert (computed.status, computed.value, computed.evaluated_at) == ("breached", 50.0, None)

    evaluated = await kpi.evaluate(kpi="signups", period=at(2031, 1, 15))
    assert [(s.kpi, s.service, s.status, s.value, s.target) for s in evaluated] == [
        ("signups", None, "breached", 50.0, 100.0)
    ]
    assert (evaluated[0].period_start, evaluated[0].cadence) == (at(2031, 1, 1), "monthly")
    stored = await kpi.get_kpi_status("signups", period=at(2031, 1, 15))
    assert stored.evaluated_at is not None and stored.status == "breached"
    history = await kpi.get_kpi_status_history("signups", limit=5)
    assert [(h.period_start, h.status) for h in history] == [(at(2031, 1, 1), "breached")]
    assert await kpi.get_kpi_status_history("signups", before=at(2031, 1, 1)) == []

    card = await kpi.get_scorecard(period=at(2031, 1, 15))
    assert card.board_level == 1
    assert [(i.kpi, i.status, i.value, i.target, i.business_owner) for i in card.items] == [
        ("signups", "breached", 50.0, 100.0, "growth@example.com")
    ]


async def test_escalation_acknowledge_resolve_and_notification(kpi: AsyncClient) -> None:
    await breached_signups(kpi)
    await kpi.evaluate(kpi="signups", period=at(2031, 1, 15))
    (escalation,) = await kpi.list_escalations(kpi="signups")
    assert (escalation.state, escalation.breached_periods, escalation.steps_fired) == ("open", 1, 1)
    assert escalation.opened_period == at(2031, 1, 1)
    assert await kpi.get_escalation(escalation.id) == escalation
    assert await kpi.list_escalations(state="resolved") == []

    acked = await kpi.acknowledge_escalation(escalation.id, by="ops@example.com", note="on it")
    assert (acked.state, acked.acknowledged_by) == ("acknowledged", "ops@example.com")
    resolved = await kpi.resolve_escalation(escalation.id, by="cto@example.com")
    assert (resolved.state, resolved.resolved_by) == ("resolved", "cto@example.com")
    assert [e.id for e in await kpi.list_escalations(state="resolved", limit=10)] == [escalation.id]
    with pytest.raises(NotFound):
        await kpi.get_escalation(999_999)

    (note,) = await kpi.list_notifications()
    assert (note.escalation_id, note.url, note.state, note.attempts) == (
        escalation.id,
        HOOK,
        "pending",
        0,
    )
    # The Standard Webhooks envelope: the event type, when the step fired, the data.
    assert set(note.payload) == {"type", "timestamp", "data"}
    assert note.payload["type"] == note.event_type == "kpi.escalation.step"
    assert note.payload["data"]["escalation_id"] == escalation.id
    assert [n.id for n in await kpi.list_notifications(state="pending", limit=5)] == [note.id]
    assert await kpi.list_notifications(state="delivered") == []


async def test_service_report(kpi: AsyncClient) -> None:
    await make_catalog(kpi)
    await kpi.upsert_incident(
        IncidentIn(
            external_id="INC-1",
            service="billing",
            severity="sev1",
            status="resolved",
            started_at=at(2031, 1, 20, 10),
            detected_at=at(2031, 1, 20, 10),
            resolved_at=at(2031, 1, 20, 11),
        )
    )
    await kpi.upsert_change(
        {
            "external_id": "d1",
            "service": "billing",
            "environment": "production",
            "status": "success",
            "started_at": at(2031, 1, 5),
            "finished_at": at(2031, 1, 5, 0, 10),
        }
    )
    await kpi.ingest_costs(
        [
            CostIn(
                service="billing",
                category="cloud",
                period_start=dt.date(2031, 1, 1),
                period_end=dt.date(2031, 2, 1),
                amount=3100,
                currency="EUR",
            )
        ]
    )
    report = await kpi.get_service_report("billing", from_=at(2031, 1, 1), to=at(2031, 2, 1))
    assert report.service == "billing"
    assert (report.availability.outage_minutes, report.availability.outage_incidents) == (60.0, 1)
    assert report.availability.window.start == at(2031, 1, 1)
    assert report.incidents.overall.incidents == 1
    assert report.incidents.overall.mttr.mean == 60.0
    assert report.incidents.downtime_cost == 1200.0
    assert report.dora.deployments == 1
    (eur,) = report.spend.currencies
    assert (eur.currency, eur.total) == ("EUR", 3100.0)
    assert [(c.category, c.amount) for c in eur.by_category] == [("cloud", 3100.0)]


async def test_governance_gaps(kpi: AsyncClient) -> None:
    await make_catalog(kpi)
    gaps = {g.kpi: g.missing for g in await kpi.list_governance_gaps()}
    assert set(gaps) == {"orders", "availability"}
    assert "cadence" in gaps["availability"] and "cadence" not in gaps["orders"]


async def test_quarterly_review_of_a_closed_quarter(kpi: AsyncClient) -> None:
    await breached_signups(kpi)
    await kpi.ingest_observations([{"kpi": "signups", "ts": at(2030, 12, 10), "value": 120}])
    # The clock stands at 2031-03-01: 2030-Q4 has ended, 2031-Q1 not yet.
    review = await kpi.get_quarterly_review("2030-Q4")
    assert (review.quarter, review.start, review.end) == (
        "2030-Q4",
        at(2030, 10, 1),
        at(2031, 1, 1),
    )
    # signups in December 2030, the quarter's last month: one point of 120, and no target yet
    # (the one of 100 takes effect on 2031-01-01), so no status.
    ((board,),) = [review.board]
    assert (board.status.kpi, board.status.value, board.status.target, board.status.status) == (
        "signups",
        120.0,
        None,
        "no_data",
    )
    assert [(p.bucket, p.value) for p in board.trend] == [(at(2030, 12, 1), 120.0)]
    with pytest.raises(ValidationFailed) as refused:
        await kpi.get_quarterly_review("2031-Q1")
    assert [e.field for e in refused.value.errors] == ["quarter"]
