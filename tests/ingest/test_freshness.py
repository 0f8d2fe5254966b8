"""The signed-time check on its own: a time a tool signed against the arrival and a tolerance,
and the 422 that names the field and the limit."""

from __future__ import annotations

import datetime as dt

import pytest

from service.errors import LateDelivery
from service.ingest.freshness import SignedTime, outside_tolerance, stale_problem

ARRIVED = dt.datetime(2026, 12, 6, 12, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)
MS = dt.timedelta(milliseconds=1)


@pytest.mark.parametrize(
    ("signed_at", "beyond"),
    [
        (ARRIVED, None),
        (ARRIVED - DAY, None),  # exactly a day before: still within
        (ARRIVED + DAY, None),  # exactly a day ahead: still within
        (ARRIVED - DAY - MS, MS),  # a day and 1 ms before: 1 ms beyond
        (ARRIVED + DAY + MS, MS),
        # A 2021 event replayed at noon on 6 December 2026: 4 June 2021 to 4 June 2026 is
        # 1,826 days (2024 is a leap year), to 4 December 183 more (26 + 31 + 31 + 30 + 31 +
        # 30 + 4), then 1 day 22:24:30.219 to noon on the 6th: 2,010 days 22:24:30.219 in
        # all, 2,009 days 22:24:30.219 beyond a day's tolerance.
        (
            dt.datetime(2021, 6, 4, 13, 35, 29, 781000, tzinfo=dt.UTC),
            dt.timedelta(days=2009, hours=22, minutes=24, seconds=30, milliseconds=219),
        ),
    ],
)
def test_outside_tolerance_is_how_far_beyond(
    signed_at: dt.datetime, beyond: dt.timedelta | None
) -> None:
    assert outside_tolerance(signed_at, DAY, ARRIVED) == beyond


def test_a_tolerance_of_zero_checks_nothing() -> None:
    old = dt.datetime(2017, 9, 26, 15, 14, 36, tzinfo=dt.UTC)
    assert outside_tolerance(old, dt.timedelta(0), ARRIVED) is None


def test_the_problem_names_the_field_and_the_limit() -> None:
    signed = SignedTime("#/event/occurred_at", dt.datetime(2021, 6, 4, 13, 35, 29, tzinfo=dt.UTC))
    problem = stale_problem(signed, DAY, "KPI_WEBHOOK_EVENT_TIME_TOLERANCE_SECONDS")
    assert isinstance(problem, LateDelivery)
    detail = (
        "signed time 2021-06-04T13:35:29Z is more than 86400 s "
        "(KPI_WEBHOOK_EVENT_TIME_TOLERANCE_SECONDS) away from the time the delivery arrived: "
        "a delivery replayed late is refused"
    )
    assert problem.body() == {
        "type": "https://kpi.example/problems/validation",
        "title": "Unprocessable Content",
        "status": 422,
        "detail": f"event.occurred_at: {detail}",
        "errors": [{"pointer": "#/event/occurred_at", "field": "event.occurred_at",
                    "detail": detail}],
        "limit": "signed_time_tolerance",
        "tolerance_seconds": 86400,
    }  # fmt: skip


def test_a_signed_header_is_named_as_the_header() -> None:
    """As a Standard Webhooks source would sign its send time: `webhook-timestamp`."""
    signed = SignedTime("webhook-timestamp", dt.datetime(2026, 12, 6, 11, 50, tzinfo=dt.UTC))
    problem = stale_problem(signed, dt.timedelta(minutes=5), "KPI_EXAMPLE_TOLERANCE_SECONDS")
    body = problem.body()
    assert "errors" not in body
    assert (body["header"], body["tolerance_seconds"]) == ("webhook-timestamp", 300)
    assert body["detail"].startswith("webhook-timestamp: signed time 2026-12-06T11:50:00Z is")
