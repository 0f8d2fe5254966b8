"""Which database a read goes to (service/read_routing.py), with hand-worked WAL positions;
no database needed. Positions are bytes from 0/0: 0/3000000 is 50,331,648."""

from __future__ import annotations

from service.config import Settings
from service.read_routing import ReplicaReading, reading, replica_for_read, replica_name, usable

MiB = 1024 * 1024
BOUND = 16 * MiB


def test_the_lag_is_the_primary_position_less_the_replayed_one_never_below_zero() -> None:
    # 50,331,648 - 50,331,000 = 648 bytes behind.
    assert reading("replica1", 50_331_000, 50_331_648).lag_bytes == 648
    # Replayed past the primary's position read just before it: 0 behind, not -100.
    assert reading("replica1", 50_331_748, 50_331_648).lag_bytes == 0
    # The primary did not answer: the lag is unknown, so the replica is not used.
    unknown = reading("replica1", 50_331_000, None)
    assert unknown.lag_bytes is None
    assert not usable(unknown, BOUND)
    # Promoted (no longer in recovery): no replay position, not used.
    assert not usable(reading("replica1", None, 50_331_648), BOUND)


def test_a_replica_is_used_up_to_the_bound_inclusive() -> None:
    assert usable(ReplicaReading("replica1", True, 0, BOUND), BOUND)
    assert not usable(ReplicaReading("replica1", True, 0, BOUND + 1), BOUND)
    assert not usable(ReplicaReading("replica1"), BOUND)  # down


def test_reads_take_the_fit_replicas_in_turn_and_else_the_primary() -> None:
    fit_a = ReplicaReading("replica1", True, 1_000_000, 0)
    behind = ReplicaReading("replica2", True, 1_000_000 - 20 * MiB, 20 * MiB)
    fit_b = ReplicaReading("replica3", True, 999_000, 1_000)
    replicas = [fit_a, behind, fit_b]
    assert [replica_for_read(replicas, BOUND, None, turn) for turn in range(4)] == [0, 2, 0, 2]
    assert replica_for_read([behind, ReplicaReading("replica2")], BOUND, None, 0) is None


def test_a_token_that_wrote_reads_only_from_a_replica_that_replayed_its_write() -> None:
    replicas = [
        ReplicaReading("replica1", True, 999_000, 1_000),
        ReplicaReading("replica2", True, 1_000_000, 0),
    ]
    # Wrote up to 999,500: replica1 (999,000) has not replayed it, replica2 has.
    assert [replica_for_read(replicas, BOUND, 999_500, turn) for turn in range(2)] == [1, 1]
    # Wrote up to 999,000: both have it (>= is enough).
    assert [replica_for_read(replicas, BOUND, 999_000, turn) for turn in range(2)] == [0, 1]
    # Wrote after both replayed positions: the primary.
    assert replica_for_read(replicas, BOUND, 1_000_001, 0) is None


def test_replicas_are_named_in_the_order_of_the_setting_and_split_on_whitespace() -> None:
    settings = Settings(
        database_read_url="postgresql://r1.example/kpi\n  postgresql://a,b/kpi?target_session_attrs=any"
    )
    assert settings.database_read_urls() == [
        "postgresql://r1.example/kpi",
        "postgresql://a,b/kpi?target_session_attrs=any",
    ]
    assert [replica_name(i) for i in range(2)] == ["replica1", "replica2"]
    assert Settings().replica_max_lag_bytes == 16 * MiB  # 16,777,216
    assert Settings(database_read_url=None).database_read_urls() == []
