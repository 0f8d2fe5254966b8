"""The pure fold of a timeline into an incident or a change (service/ingest/timeline.py)."""

from __future__ import annotations

import datetime as dt
import itertools

from service.models.enums import ChangeStatus, IncidentStep
from service.models.events import ChangeEvent, IncidentEvent
from service.models.timeline import build_change, build_incident, retraction


def at(hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 3, 1, hour, minute, tzinfo=dt.UTC)


def step(kind: IncidentStep, when: dt.datetime, **fields: object) -> IncidentEvent:
    return IncidentEvent.model_validate(
        {"external_id": "I", "event_key": f"{kind}:{when}", "step": kind, "occurred_at": when,
         **fields}
    )  # fmt: skip


REOPENED_HISTORY = [
    step(IncidentStep.TRIGGERED, at(10)),
    step(IncidentStep.ACKNOWLEDGED, at(10, 5)),
    step(IncidentStep.RESOLVED, at(10, 30)),
    step(IncidentStep.REOPENED, at(11)),
    step(IncidentStep.RESOLVED, at(12)),
]


def test_a_reopened_incident_is_down_twice() -> None:
    rec = build_incident(REOPENED_HISTORY)
    assert rec.status == "resolved"
    assert (rec.started_at, rec.detected_at, rec.acknowledged_at, rec.resolved_at) == (
        at(10), at(10), at(10, 5), at(12)
    )  # fmt: skip
    # Up from 10:30 to 11:00: 30 + 60 = 90 minutes down.
    assert rec.outages == [(at(10), at(10, 30)), (at(11), at(12))]


def test_every_order_of_arrival_gives_the_same_incident() -> None:
    first = build_incident(REOPENED_HISTORY)
    for order in itertools.permutations(REOPENED_HISTORY):
        assert build_incident(order) == first


def test_an_open_incident_is_down_until_now() -> None:
    rec = build_incident(REOPENED_HISTORY[:4])
    assert (rec.status, rec.resolved_at) == ("open", None)
    assert rec.outages == [(at(10), at(10, 30)), (at(11), None)]


def test_unacknowledged_goes_back_to_open_and_keeps_the_first_acknowledgement() -> None:
    history = [
        step(IncidentStep.TRIGGERED, at(10)),
        step(IncidentStep.ACKNOWLEDGED, at(10, 5)),
        step(IncidentStep.UNACKNOWLEDGED, at(10, 20)),
    ]
    rec = build_incident(history)
    assert (rec.status, rec.acknowledged_at) == ("open", at(10, 5))
    rec = build_incident([*history, step(IncidentStep.ACKNOWLEDGED, at(10, 30))])
    assert (rec.status, rec.acknowledged_at) == ("acknowledged", at(10, 5))
    # Still down all along: acknowledging is not restoring.
    assert rec.outages == [(at(10), None)]


def test_a_stated_status_wins_over_the_step() -> None:
    """PagerDuty's incident.reassigned (an update) says the incident is triggered again."""
    history = [
        step(IncidentStep.TRIGGERED, at(10), status="open"),
        step(IncidentStep.ACKNOWLEDGED, at(10, 5), status="acknowledged"),
        step(IncidentStep.UPDATED, at(10, 15), status="open"),
    ]
    rec = build_incident(history)
    assert (rec.status, rec.acknowledged_at) == ("open", at(10, 5))


def test_an_acknowledgement_does_not_reopen_a_resolved_incident() -> None:
    rec = build_incident([
        step(IncidentStep.TRIGGERED, at(10)),
        step(IncidentStep.RESOLVED, at(10, 30)),
        step(IncidentStep.ACKNOWLEDGED, at(10, 40)),
    ])  # fmt: skip
    assert (rec.status, rec.resolved_at, rec.acknowledged_at) == (
        "resolved",
        at(10, 30),
        at(10, 40),
    )


def test_a_resolution_before_the_impact_start_adds_no_downtime() -> None:
    rec = build_incident([
        step(IncidentStep.RESOLVED, at(9)),
        step(IncidentStep.UPDATED, at(9), impact_start=at(10)),
    ])  # fmt: skip
    assert (rec.status, rec.outages) == ("resolved", [])


def test_a_firing_alert_past_the_resolution_retracts_it() -> None:
    resolved = build_incident(REOPENED_HISTORY)
    firing = step(IncidentStep.TRIGGERED, at(10), firing_until=at(12, 5))
    event = retraction(resolved, [firing])
    assert event is not None
    assert (event.step, event.occurred_at, event.event_key) == (
        IncidentStep.REOPENED, at(12), "retracted:2026-03-01T12:00:00Z"
    )  # fmt: skip
    rec = build_incident([*REOPENED_HISTORY, event])
    # Reopened at the very instant of the resolution: the outage goes on without a gap.
    assert (rec.status, rec.outages) == ("open", [(at(10), at(10, 30)), (at(11), at(12)),
                                                  (at(12), None)])  # fmt: skip
    # A firing alert that would have ended before the resolution is stale: no retraction.
    stale = step(IncidentStep.TRIGGERED, at(10), firing_until=at(11, 59))
    assert retraction(resolved, [stale]) is None
    assert retraction(build_incident(REOPENED_HISTORY[:4]), [firing]) is None


def change(status: ChangeStatus, when: dt.datetime) -> ChangeEvent:
    return ChangeEvent(external_id="C", event_key=f"{status}:{when}", status=status,
                       occurred_at=when, commits=["ABCDEF1"])  # fmt: skip


def test_of_change_reports_at_one_instant_the_worse_outcome_wins() -> None:
    reports = [change(ChangeStatus.IN_PROGRESS, at(9)), change(ChangeStatus.SUCCESS, at(10)),
               change(ChangeStatus.FAILED, at(10))]  # fmt: skip
    for order in itertools.permutations(reports):
        rec = build_change(order)
        assert (rec.status, rec.started_at, rec.finished_at) == (ChangeStatus.FAILED, at(9), at(10))
        assert rec.commits == {"abcdef1"}
