"""Incidents and changes through the generic endpoints: upsert, events, lists, details."""

from __future__ import annotations

import pytest
from kpi_client import AsyncClient, NotFound, ValidationFailed
from kpi_client.models import ChangeIn, CommitIn, IncidentEventIn, IncidentIn

from tests.clients.catalog_data import at, make_catalog

SHA = "a1b2c3d4e5f6a7b8c9d0a1b2c3d4e5f6a7b8c9d0"


async def test_changes_round_trip(kpi: AsyncClient) -> None:
    await make_catalog(kpi)
    started = await kpi.upsert_change(
        ChangeIn(
            external_id="deploy-1",
            service="checkout",
            environment="production",
            status="in_progress",
            started_at=at(2031, 1, 10, 9),
            commit_sha=SHA,
            commits=[CommitIn(sha=SHA, committed_at=at(2031, 1, 9, 15))],
            title="v1.2.3",
            url="https://ci.example/runs/1",
        )
    )
    assert (started.source, started.status, started.is_production, started.kind) == (
        "api",
        "in_progress",
        True,
        "deploy",
    )
    assert started.commit_time == at(2031, 1, 9, 15)
    done = await kpi.upsert_change(
        {
            "external_id": "deploy-1",
            "service": "checkout",
            "environment": "production",
            "status": "success",
            "finished_at": at(2031, 1, 10, 9, 5),
        }
    )
    assert done.id == started.id
    assert (done.status, done.started_at, done.finished_at) == (
        "success",
        at(2031, 1, 10, 9),
        at(2031, 1, 10, 9, 5),
    )
    detail = await kpi.get_change(done.id)
    assert [e.what for e in detail.timeline] == ["in_progress", "success"]
    assert detail.incidents == []
    await kpi.upsert_change(
        ChangeIn(
            external_id="cfg-1",
            service="billing",
            environment="staging",
            kind="config",
            status="failed",
            finished_at=at(2031, 1, 11),
        )
    )
    assert [c.external_id for c in await kpi.list_changes()] == ["cfg-1", "deploy-1"]
    assert [c.external_id for c in await kpi.list_changes(environment="production")] == ["deploy-1"]
    failed = await kpi.list_changes(service="billing", status=["failed", "rolled_back"])
    assert [(c.kind, c.is_production) for c in failed] == [("config", False)]
    window = await kpi.list_changes(from_=at(2031, 1, 11), to=at(2031, 2, 1), limit=10)
    assert [c.external_id for c in window] == ["cfg-1"]
    with pytest.raises(NotFound):
        await kpi.get_change(999_999)


async def test_incidents_round_trip(kpi: AsyncClient) -> None:
    await make_catalog(kpi)
    opened = await kpi.upsert_incident(
        IncidentIn(
            external_id="INC-1",
            service="checkout",
            severity="sev1",
            title="Checkout down",
            started_at=at(2031, 1, 20, 10),
            detected_at=at(2031, 1, 20, 10, 5),
            users_affected=1200,
            cost_estimate=5000.0,
            problem_key="db-pool",
        )
    )
    assert (opened.status, opened.severity, opened.users_affected, opened.cost_estimate) == (
        "open",
        "sev1",
        1200,
        5000.0,
    )
    assert (opened.started_at, opened.detected_at) == (at(2031, 1, 20, 10), at(2031, 1, 20, 10, 5))
    acked = await kpi.add_incident_event(
        opened.id,
        IncidentEventIn(step="acknowledged", occurred_at=at(2031, 1, 20, 10, 7), note="on it"),
    )
    assert (acked.status, acked.acknowledged_at) == ("acknowledged", at(2031, 1, 20, 10, 7))
    resolved = await kpi.add_incident_event(
        opened.id, {"step": "resolved", "occurred_at": at(2031, 1, 20, 11), "event_id": "r1"}
    )
    assert (resolved.status, resolved.resolved_at) == ("resolved", at(2031, 1, 20, 11))
    detail = await kpi.get_incident(opened.id)
    # The note is a step of its own ("updated"), beside the acknowledgement it came with.
    assert [e.what for e in detail.timeline] == [
        "triggered",
        "updated",
        "acknowledged",
        "updated",
        "resolved",
    ]
    await kpi.upsert_incident(
        {
            "external_id": "INC-2",
            "service": "billing",
            "severity": "sev3",
            "started_at": at(2031, 1, 25),
        }
    )
    assert [i.external_id for i in await kpi.list_incidents()] == ["INC-2", "INC-1"]
    assert [i.external_id for i in await kpi.list_incidents(severity=["sev1", "sev2"])] == ["INC-1"]
    open_now = await kpi.list_incidents(status="open", service="billing", limit=5)
    assert [i.external_id for i in open_now] == ["INC-2"]
    window = await kpi.list_incidents(from_=at(2031, 1, 21), to=at(2031, 2, 1))
    assert [i.external_id for i in window] == ["INC-2"]
    first = (await kpi.list_incidents(limit=1))[0]
    assert [i.external_id for i in await kpi.list_incidents(before=first.id)] == ["INC-1"]


async def test_an_incident_links_to_the_change_it_names(kpi: AsyncClient) -> None:
    await make_catalog(kpi)
    change = await kpi.upsert_change(
        ChangeIn(
            external_id="d-9",
            service="checkout",
            environment="production",
            status="success",
            commit_sha=SHA,
            finished_at=at(2031, 1, 10),
        )
    )
    incident = await kpi.upsert_incident(
        IncidentIn(
            external_id="INC-9", service="checkout", caused_by=SHA, started_at=at(2031, 1, 10, 1)
        )
    )
    assert (incident.caused_by_change_id, incident.link_kind) == (change.id, "explicit")
    assert (await kpi.get_change(change.id)).incidents == [incident.id]


async def test_unknown_service_is_a_validation_error(kpi: AsyncClient) -> None:
    with pytest.raises(ValidationFailed) as caught:
        await kpi.upsert_incident(IncidentIn(external_id="x", service="nowhere"))
    assert [e.field for e in caught.value.errors] == ["service"]
