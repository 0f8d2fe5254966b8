"""The ServiceNow adapter and its replay ids without a database: every state code, the times
as getValue gives them, and the adapter fuzzed on top of the fixtures like every other one."""

from __future__ import annotations

import copy
import datetime as dt

import pytest

from service.ingest.model import AdapterOptions, Delivery, Unsupported
from service.ingest.sources.servicenow import adapter, replay
from service.models.enums import IncidentStep, Severity
from tests.ingest.fixtures import fixture
from tests.ingest.sources.servicenow.test_webhooks import CLOSED, CUSTOM, NEW, RESOLVED, SYS_ID
from tests.security.test_adapter_fuzz import assert_fuzzed


def parse_state(state: object, mod_count: str = "3") -> tuple[IncidentStep, str | None]:
    payload = copy.deepcopy(fixture(RESOLVED))
    payload.update(state=state, sys_mod_count=mod_count)
    [event] = adapter.parse(Delivery({}, payload), AdapterOptions()).incidents
    return event.step, event.status


@pytest.mark.parametrize(
    ("state", "step", "status"),
    [
        ("1", IncidentStep.UPDATED, "open"),  # New, but not the insert (sys_mod_count 3)
        (2, IncidentStep.ACKNOWLEDGED, "acknowledged"),  # a JSON number is taken too
        ("3", IncidentStep.ACKNOWLEDGED, "acknowledged"),
        ("6", IncidentStep.RESOLVED, "resolved"),
        ("7", IncidentStep.RESOLVED, "resolved"),
        ("8", IncidentStep.RESOLVED, "resolved"),
    ],
)
def test_each_state_code(state: object, step: IncidentStep, status: str) -> None:
    assert parse_state(state) == (step, status)


def test_the_insert_is_the_trigger_and_unknown_states_are_unsupported() -> None:
    assert parse_state("1", mod_count="0") == (IncidentStep.TRIGGERED, "open")
    with pytest.raises(Unsupported, match="state 4 is none of"):
        adapter.parse(Delivery({}, fixture(CUSTOM)), AdapterOptions())


def test_a_resolution_happens_at_resolved_at_else_closed_at() -> None:
    closed = copy.deepcopy(fixture(CLOSED))
    [event] = adapter.parse(Delivery({}, closed), AdapterOptions()).incidents
    assert event.occurred_at == dt.datetime(2026, 11, 4, 10, 17, 30, tzinfo=dt.UTC)
    closed["resolved_at"] = None
    [event] = adapter.parse(Delivery({}, closed), AdapterOptions()).incidents
    assert event.occurred_at == dt.datetime(2026, 11, 7, 10, 20, tzinfo=dt.UTC)
    assert (event.severity, event.priority) == (Severity.SEV1, "1")


def test_event_type_and_delivery_key_never_raise() -> None:
    assert adapter.event_type(Delivery({}, fixture(NEW))) == "incident New"
    assert replay.delivery_key(Delivery({}, fixture(NEW))) == f"{SYS_ID}:0"
    for odd in ([1], "text", {"state": "9" * 5000, "sys_id": 5}, {"sys_mod_count": True}):
        assert adapter.event_type(Delivery({}, odd)) == "unknown"
        assert replay.delivery_key(Delivery({}, odd)) is None
    assert replay.signed_key(Delivery({}, fixture(NEW))) is None
    assert replay.signed_times(Delivery({}, fixture(NEW))) == []


def test_the_adapter_never_raises_anything_but_its_documented_refusals() -> None:
    """tests/security/test_adapter_fuzz.py's run, on these fixtures. The record is flat, so
    every mutation lands on a member the adapter reads or on the record itself: fewer still
    map (about one in five), and one in eight is asked."""
    assert_fuzzed(adapter.KIND, share=8)
