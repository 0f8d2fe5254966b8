"""Timestamps as tools send them: zones kept, UTC stored, nonsense refused with a pointer."""

from __future__ import annotations

import datetime as dt

import pytest

from service.ingest.model import PayloadError
from service.ingest.timeparse import (
    from_epoch_millis,
    from_epoch_nanos,
    parse_optional_time,
    parse_time,
)

UTC = dt.UTC


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-05-02 12:30:19 +0000", dt.datetime(2025, 5, 2, 12, 30, 19, tzinfo=UTC)),
        ("2016-08-12 15:23:28 UTC", dt.datetime(2016, 8, 12, 15, 23, 28, tzinfo=UTC)),
        ("2021-04-28 21:50:00 +0200", dt.datetime(2021, 4, 28, 19, 50, tzinfo=UTC)),
        ("2021-06-04T13:35:29.781Z", dt.datetime(2021, 6, 4, 13, 35, 29, 781000, tzinfo=UTC)),
        ("2022-01-16T22:57:37+01:00", dt.datetime(2022, 1, 16, 21, 57, 37, tzinfo=UTC)),
    ],
)
def test_tool_timestamps_are_read_in_their_zone_and_kept_in_utc(
    text: str, expected: dt.datetime
) -> None:
    parsed = parse_time(text, "#/t")
    assert parsed == expected and parsed.tzinfo == UTC


@pytest.mark.parametrize(
    ("value", "detail"),
    [
        ("2021-06-04T13:35:29", "timestamp without a zone"),
        ("yesterday", "not a timestamp"),
        (1622813729, "expected a timestamp string"),
        ("0001-01-01T00:00:00+01:00", "timestamp out of range"),
    ],
)
def test_bad_timestamps_name_their_field(value: object, detail: str) -> None:
    with pytest.raises(PayloadError) as caught:
        parse_time(value, "#/alerts/0/startsAt")
    assert caught.value.pointer == "#/alerts/0/startsAt"
    assert caught.value.detail.startswith(detail)


def test_alertmanager_zero_time_means_still_open() -> None:
    assert parse_optional_time("0001-01-01T00:00:00Z", "#/endsAt") is None
    assert parse_optional_time(None, "#/endsAt") is None


def test_epoch_values_and_their_range() -> None:
    assert from_epoch_millis(1502709956288, "#/t") == dt.datetime(
        2017, 8, 14, 11, 25, 56, 288000, tzinfo=UTC
    )
    # Opsgenie's nanoseconds: exact, cut to the microsecond.
    assert from_epoch_nanos(1420452374669001999, "#/t") == dt.datetime(
        2015, 1, 5, 10, 6, 14, 669001, tzinfo=UTC
    )
    for convert, value in ((from_epoch_millis, 10**18), (from_epoch_nanos, 10**30)):
        with pytest.raises(PayloadError, match="epoch time out of range"):
            convert(value, "#/t")
    with pytest.raises(PayloadError, match="expected epoch milliseconds"):
        from_epoch_millis(True, "#/t")
