"""Calendar quarters named as 2026-Q3."""

from __future__ import annotations

import datetime as dt

import pytest

from service.errors import ValidationFailed
from service.kpi.quarters import ended_quarter, quarter_name, quarter_period


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("name", "start", "end"),
    [("2026-Q1", utc(2026, 1, 1), utc(2026, 4, 1)),
     ("2026-Q2", utc(2026, 4, 1), utc(2026, 7, 1)),
     ("2026-q3", utc(2026, 7, 1), utc(2026, 10, 1)),
     ("2026-Q4", utc(2026, 10, 1), utc(2027, 1, 1))],
)  # fmt: skip
def test_a_quarter_is_its_three_calendar_months(
    name: str, start: dt.datetime, end: dt.datetime
) -> None:
    period = quarter_period(name)
    assert (period.start, period.end) == (start, end)
    assert quarter_name(start) == name.upper()
    assert quarter_name(end - dt.timedelta(microseconds=1)) == name.upper()


@pytest.mark.parametrize(
    "name",
    ["2026-Q0", "2026-Q5", "2026Q1", "Q3-2026", "26-Q1", "", "0000-Q1", "1969-Q4", "2200-Q1"],
)
def test_anything_else_is_refused_naming_quarter(name: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        quarter_period(name)
    assert [e.field for e in refused.value.errors] == ["quarter"]


def test_a_review_needs_the_quarter_ended() -> None:
    # Q3 ends at 2026-10-01 00:00: ended from that instant on, not a microsecond before.
    assert ended_quarter("2026-Q3", utc(2026, 10, 1)).end == utc(2026, 10, 1)
    with pytest.raises(ValidationFailed, match="has not ended yet"):
        ended_quarter("2026-Q3", utc(2026, 10, 1) - dt.timedelta(microseconds=1))
