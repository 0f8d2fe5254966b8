"""Periods in a business calendar: local midnights across daylight-saving changes, weeks from
a chosen day, fiscal quarters and years, and a calendar that changes from an instant on."""

from __future__ import annotations

import datetime as dt

import pytest

from service.kpi import periods
from service.kpi.periods import DEFAULT, Calendar, Period, Rules, whole_hours
from service.models.enums import Cadence, Grain

BERLIN = Calendar.of("Europe/Berlin")


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def test_the_default_calendar_is_utc_as_before() -> None:
    # 2026-03-29 12:00Z: the UTC day, the Monday week (Mon 23 March), the calendar quarter.
    t = utc(2026, 3, 29, 12)
    assert periods.bucket(Grain.DAY, t) == Period(utc(2026, 3, 29), utc(2026, 3, 30))
    assert periods.bucket(Grain.WEEK, t) == Period(utc(2026, 3, 23), utc(2026, 3, 30))
    assert periods.bucket(Grain.QUARTER, t) == Period(utc(2026, 1, 1), utc(2026, 4, 1))
    assert periods.bucket(Grain.DAY, t, Calendar.of()) == periods.bucket(Grain.DAY, t)
    assert Calendar.of().is_default and DEFAULT.is_default


def test_the_spring_change_makes_a_local_day_of_23_hours() -> None:
    # Berlin leaves CET (+01:00) for CEST (+02:00) at 02:00 local on 2026-03-29: the day runs
    # from 00:00 CET = 2026-03-28 23:00Z to 00:00 CEST on the 30th = 2026-03-29 22:00Z,
    # 23 h = 82 800 s.
    day = periods.bucket(Grain.DAY, utc(2026, 3, 29, 12), BERLIN)
    assert day == Period(utc(2026, 3, 28, 23), utc(2026, 3, 29, 22))
    assert day.seconds == 23 * 3600 == 82_800
    # The day before is a whole 24 h in CET, the day after 24 h in CEST.
    assert periods.advance(Grain.DAY, day.start, -1, BERLIN) == utc(2026, 3, 27, 23)
    assert periods.advance(Grain.DAY, day.start, 2, BERLIN) == utc(2026, 3, 30, 22)
    # March: 1 March 00:00 CET = 28 Feb 23:00Z to 1 April 00:00 CEST = 31 March 22:00Z:
    # 31 days less the hour skipped = 31 x 86 400 - 3 600 = 2 674 800 s.
    month = periods.bucket(Grain.MONTH, utc(2026, 3, 29, 12), BERLIN)
    assert month == Period(utc(2026, 2, 28, 23), utc(2026, 3, 31, 22))
    assert month.seconds == 2_674_800


def test_the_autumn_change_makes_a_local_day_of_25_hours() -> None:
    # Back from CEST to CET at 03:00 local on 2026-10-25: 00:00 CEST = 24 Oct 22:00Z to
    # 00:00 CET on the 26th = 25 Oct 23:00Z, 25 h = 90 000 s. October: 30 Sep 22:00Z to
    # 31 Oct 23:00Z, 31 x 86 400 + 3 600 = 2 682 000 s.
    day = periods.bucket(Grain.DAY, utc(2026, 10, 25, 1, 30), BERLIN)
    assert day == Period(utc(2026, 10, 24, 22), utc(2026, 10, 25, 23))
    assert day.seconds == 90_000
    month = periods.period_of(Cadence.MONTHLY, utc(2026, 10, 25, 1, 30), BERLIN)
    assert month == Period(utc(2026, 9, 30, 22), utc(2026, 10, 31, 23))
    assert month.seconds == 2_682_000
    # The instant at 23:30Z on the 25th is already 00:30 CET on the 26th: the next day.
    assert periods.truncate(Grain.DAY, utc(2026, 10, 25, 23, 30), BERLIN) == utc(2026, 10, 25, 23)


def test_hours_across_the_change_are_real_hours() -> None:
    # Local hours are UTC hours in Berlin: the 02:00-03:00 hour that does not exist on
    # 2026-03-29 is no bucket, 01:00 CET (00:00Z) is followed by 03:00 CEST (01:00Z).
    assert periods.buckets(Grain.HOUR, utc(2026, 3, 29, 0), utc(2026, 3, 29, 2), BERLIN) == [
        Period(utc(2026, 3, 29, 0), utc(2026, 3, 29, 1)),
        Period(utc(2026, 3, 29, 1), utc(2026, 3, 29, 2)),
    ]


def test_weeks_start_on_the_configured_day() -> None:
    # 2026-03-29 is a Sunday. Weeks from Monday: Mon 23 March 00:00 CET (22 March 23:00Z) to
    # Mon 30 March 00:00 CEST (29 March 22:00Z): 7 days less an hour = 601 200 s.
    monday = periods.bucket(Grain.WEEK, utc(2026, 3, 29, 12), BERLIN)
    assert monday == Period(utc(2026, 3, 22, 23), utc(2026, 3, 29, 22))
    assert monday.seconds == 601_200
    # Weeks from Sunday: Sun 29 March 00:00 CET (28 March 23:00Z) to Sun 5 April 00:00 CEST
    # (4 April 22:00Z), also 601 200 s; the Saturday before belongs to the week before.
    sunday = Calendar.of("Europe/Berlin", week_start=6)
    week = periods.bucket(Grain.WEEK, utc(2026, 3, 29, 12), sunday)
    assert week == Period(utc(2026, 3, 28, 23), utc(2026, 4, 4, 22))
    assert week.seconds == 601_200
    before = periods.bucket(Grain.WEEK, utc(2026, 3, 28, 12), sunday)
    assert before == Period(utc(2026, 3, 21, 23), utc(2026, 3, 28, 23))


def test_quarters_and_years_start_on_the_fiscal_month() -> None:
    # A fiscal year from April in Berlin: the quarter of 10 May 2026 is April-June, from
    # 1 April 00:00 CEST (31 March 22:00Z) to 1 July 00:00 CEST (30 June 22:00Z).
    fiscal = Calendar.of("Europe/Berlin", fiscal_start_month=4)
    assert periods.bucket(Grain.QUARTER, utc(2026, 5, 10), fiscal) == Period(
        utc(2026, 3, 31, 22), utc(2026, 6, 30, 22)
    )
    # The last minute of March (23:59 CEST = 21:59Z) is still the fourth quarter of the year
    # that began in April 2025: 1 January 00:00 CET (31 Dec 2025 23:00Z) to 1 April.
    last = periods.period_of(Cadence.QUARTERLY, utc(2026, 3, 31, 21, 59), fiscal)
    assert last == Period(utc(2025, 12, 31, 23), utc(2026, 3, 31, 22))
    # The fiscal year starts at the same instant: [1 April 2026, 1 April 2027) local.
    year = periods.period_of(Cadence.YEARLY, utc(2026, 3, 31, 22), fiscal)
    assert year == Period(utc(2026, 3, 31, 22), utc(2027, 3, 31, 22))
    assert periods.previous(Cadence.YEARLY, year, fiscal) == Period(
        utc(2025, 3, 31, 22), utc(2026, 3, 31, 22)
    )
    # In UTC with a fiscal year from February, a quarter of January 2026 is Nov-Jan.
    february = Calendar.of(fiscal_start_month=2)
    assert periods.bucket(Grain.QUARTER, utc(2026, 1, 20), february) == Period(
        utc(2025, 11, 1), utc(2026, 2, 1)
    )


def test_a_calendar_change_applies_from_its_instant_on() -> None:
    # UTC until 15 March 2026 00:00 in Berlin (14 March 23:00Z), Berlin from then: March is
    # cut in two, the UTC part [1 March 00:00Z, 14 March 23:00Z) and the Berlin part up to
    # 1 April 00:00 CEST (31 March 22:00Z); February stays the UTC month it was.
    since = utc(2026, 3, 14, 23)
    cal = DEFAULT.changed(Rules("Europe/Berlin"), since)
    assert periods.bucket(Grain.MONTH, utc(2026, 3, 10), cal) == Period(utc(2026, 3, 1), since)
    assert periods.bucket(Grain.MONTH, utc(2026, 3, 20), cal) == Period(since, utc(2026, 3, 31, 22))
    assert periods.bucket(Grain.MONTH, utc(2026, 2, 10), cal) == Period(
        utc(2026, 2, 1), utc(2026, 3, 1)
    )
    assert periods.buckets(Grain.MONTH, utc(2026, 2, 10), utc(2026, 4, 10), cal) == [
        Period(utc(2026, 2, 1), utc(2026, 3, 1)),
        Period(utc(2026, 3, 1), since),
        Period(since, utc(2026, 3, 31, 22)),
        Period(utc(2026, 3, 31, 22), utc(2026, 4, 30, 22)),
    ]
    # The last closed month on 2 April is the Berlin part of March, and the one before it
    # the UTC part.
    closed = periods.last_closed(Cadence.MONTHLY, utc(2026, 4, 2), cal)
    assert closed == Period(since, utc(2026, 3, 31, 22))
    assert periods.previous(Cadence.MONTHLY, closed, cal) == Period(utc(2026, 3, 1), since)


def test_a_change_on_a_period_start_cuts_nothing() -> None:
    # From 1 April 2026 00:00 CEST (31 March 22:00Z): the UTC March ends there, two hours
    # short of 1 April 00:00Z, and the Berlin April starts there.
    since = utc(2026, 3, 31, 22)
    cal = DEFAULT.changed(Rules("Europe/Berlin"), since)
    assert periods.bucket(Grain.MONTH, utc(2026, 3, 31, 21), cal) == Period(utc(2026, 3, 1), since)
    assert periods.bucket(Grain.MONTH, since, cal) == Period(since, utc(2026, 4, 30, 22))


def test_complete_and_default_windows_follow_the_calendar() -> None:
    # The Berlin day of 29 March ends at 22:00Z: complete at 22:00Z, not at 21:59Z.
    start = utc(2026, 3, 28, 23)
    assert periods.is_complete(Grain.DAY, start, None, None, utc(2026, 3, 29, 22), BERLIN)
    assert not periods.is_complete(Grain.DAY, start, None, None, utc(2026, 3, 29, 21, 59), BERLIN)
    # 30 days back from 2 April 12:00Z in Berlin: from 4 March 00:00 CET = 3 March 23:00Z.
    assert periods.default_start(Grain.DAY, utc(2026, 4, 2, 12), BERLIN) == utc(2026, 3, 3, 23)


def test_zones_part_of_an_hour_off_utc_are_not_whole_hours() -> None:
    assert whole_hours(BERLIN) and whole_hours(DEFAULT)
    assert whole_hours(Calendar.of("America/New_York"))
    assert not whole_hours(Calendar.of("Asia/Kolkata"))  # +05:30
    assert not whole_hours(Calendar.of("Asia/Kathmandu"))  # +05:45
    # A local day in India starts at 18:30Z the day before.
    india = Calendar.of("Asia/Kolkata")
    assert periods.truncate(Grain.DAY, utc(2026, 3, 29, 12), india) == utc(2026, 3, 28, 18, 30)


@pytest.mark.parametrize("zone", ["Mars/Olympus", "+01:00", "CET+1", "", "europe/berlin"])
def test_an_unknown_zone_is_refused(zone: str) -> None:
    with pytest.raises(ValueError, match="IANA"):
        Rules(zone)
