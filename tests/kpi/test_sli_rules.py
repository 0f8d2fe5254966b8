"""The rules of Prometheus SLIs: due buckets, the bucket placeholder, and which buckets
become points, which are asked for again and which are left as gaps."""

from __future__ import annotations

import datetime as dt

from service.kpi import sli

H = dt.timedelta(hours=1)
MIN = dt.timedelta(minutes=1)
T0 = dt.datetime(2026, 12, 6, 0, 0, tzinfo=dt.UTC)


def test_the_placeholder_becomes_the_bucket_duration() -> None:
    query = 'sum(increase(http_requests_total{code!~"5.."}[$__bucket]))'
    assert sli.query_for(query, "5m") == 'sum(increase(http_requests_total{code!~"5.."}[5m]))'


def test_buckets_start_at_multiples_of_their_length_from_utc_midnight() -> None:
    assert sli.floor_bucket(T0 + 13 * MIN, 300) == T0 + 10 * MIN
    assert sli.floor_bucket(T0 + 90 * MIN, 3600) == T0 + H
    assert sli.floor_bucket(T0 + 23 * H, 86_400) == T0


def test_a_new_sli_backfills_from_the_bucket_holding_now_minus_the_window() -> None:
    # now 10:30; backfill 1 day: from the bucket holding yesterday 10:30, i.e. yesterday
    # 10:00, to the last bucket ending at least 60 s before now, i.e. [09:00, 10:00):
    # 24 buckets, yesterday 10:00 ... today 09:00.
    now = T0 + 10 * H + 30 * MIN
    starts = sli.due_window(None, 3600, now, delay=60 * dt.timedelta(seconds=1),
                            backfill=dt.timedelta(days=1))  # fmt: skip
    assert len(starts) == 24
    assert starts[0] == T0 - 14 * H
    assert starts[-1] == T0 + 9 * H


def test_a_bucket_is_due_once_the_delay_has_passed_since_its_end() -> None:
    delay = dt.timedelta(seconds=60)
    # [09:00, 10:00) is not due at 10:00:59, due at 10:01:00.
    assert sli.due_window(T0 + 9 * H, 3600, T0 + 10 * H + 59 * dt.timedelta(seconds=1),
                          delay=delay, backfill=H) == []  # fmt: skip
    assert sli.due_window(T0 + 9 * H, 3600, T0 + 10 * H + MIN, delay=delay,
                          backfill=H) == [T0 + 9 * H]  # fmt: skip


def test_a_round_takes_at_most_its_share_of_buckets() -> None:
    starts = sli.due_window(None, 60, T0 + dt.timedelta(days=30), delay=dt.timedelta(0),
                            backfill=dt.timedelta(days=30))  # fmt: skip
    assert len(starts) == sli.BUCKETS_PER_ROUND  # 43,200 minutes due, 10,000 this round
    assert [len(c) for c in sli.chunks(starts)] == [1000] * 10


def test_buckets_with_both_samples_become_points_and_the_next_round_starts_after() -> None:
    starts = [T0, T0 + H]
    got = sli.settle(starts, 3600, {T0: 990.0, T0 + H: 1000.0}, {T0: 1000.0, T0 + H: 1000.0},
                     T0 + 3 * H, gap_after=H)  # fmt: skip
    assert got.points == [sli.BucketPoint(T0, 990.0, 1000.0),
                          sli.BucketPoint(T0 + H, 1000.0, 1000.0)]  # fmt: skip
    assert got.next_bucket == T0 + 2 * H
    assert (got.gaps, got.problem) == (0, None)


def test_a_recent_bucket_without_samples_is_asked_again_and_so_are_those_after_it() -> None:
    # now 03:30, gap_after 1 h: [01:00, 02:00) ended 1.5 h ago without a total sample: a gap.
    # [02:00, 03:00) ended 30 min ago without a good sample: asked again next round, and
    # so is nothing after it here; the round starts there next time.
    starts = [T0, T0 + H, T0 + 2 * H]
    got = sli.settle(
        starts, 3600, {T0: 5.0, T0 + H: 7.0}, {T0: 10.0, T0 + 2 * H: 9.0},
        T0 + 3 * H + 30 * MIN, gap_after=H,
    )  # fmt: skip
    assert got.points == [sli.BucketPoint(T0, 5.0, 10.0)]
    assert got.gaps == 1
    assert got.next_bucket == T0 + 2 * H
    assert got.problem == "bucket 2026-12-06T02:00:00+00:00: the good-events query gave no sample"


def test_a_point_after_a_waiting_bucket_is_stored_and_evaluated_again_next_round() -> None:
    # now 02:01, gap_after 2 h: [00:00, 01:00) ended 61 min ago without samples, so it is
    # asked again; [01:00, 02:00) is stored, and asked again with it next round.
    starts = [T0, T0 + H]
    got = sli.settle(starts, 3600, {T0 + H: 1.0}, {T0 + H: 2.0}, T0 + 2 * H + MIN,
                     gap_after=2 * H)  # fmt: skip
    assert got.points == [sli.BucketPoint(T0 + H, 1.0, 2.0)]
    assert got.next_bucket is None  # nothing settled before the waiting bucket
    assert got.gaps == 0


def test_nan_negative_and_more_good_than_total_are_never_stored() -> None:
    starts = [T0, T0 + H, T0 + 2 * H]
    good = {T0: float("nan"), T0 + H: -1.0, T0 + 2 * H: 11.0}
    total = {T0: 10.0, T0 + H: 10.0, T0 + 2 * H: 10.0}
    got = sli.settle(starts, 3600, good, total, T0 + dt.timedelta(days=1), gap_after=H)
    assert got.points == []
    assert got.gaps == 3
    assert got.next_bucket == T0 + 3 * H
    assert got.problem == ("bucket 2026-12-06T02:00:00+00:00: more good events (11) than "
                           "events (10)")  # fmt: skip
