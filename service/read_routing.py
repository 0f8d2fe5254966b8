"""Which database a read goes to, given what was last measured of each replica: pure rules,
the measuring is service/replicas.py's.

A replica is used for reads when it answered the last check, is still a replica (in
recovery), and its replay is at most KPI_REPLICA_MAX_LAG_BYTES behind the primary's WAL
position. A read by a token that wrote goes only to a usable replica that has replayed at
least up to that write (read-your-writes); with none, it goes to the primary.

Lag is measured in WAL bytes, not by the replay timestamp: on an idle primary nothing is
replayed, so a timestamp would keep growing on a replica that is fully caught up.
"""

from __future__ import annotations

from dataclasses import dataclass

PRIMARY = "primary"


def replica_name(index: int) -> str:
    """replica1, replica2, ... in the order of KPI_DATABASE_READ_URL."""
    return f"replica{index + 1}"


@dataclass(frozen=True)
class ReplicaReading:
    """One replica as the last check found it."""

    name: str
    #: Whether it answered the check.
    reachable: bool = False
    #: The WAL position (bytes from 0/0) it had replayed; None when down or not a replica.
    replayed: int | None = None
    #: Bytes its replay was behind the primary's position; None when either is unknown.
    lag_bytes: int | None = None


def reading(name: str, replayed: int | None, primary_position: int | None) -> ReplicaReading:
    """A replica that answered, its lag against the primary's position measured after it
    (so the lag is never understated; a replica ahead of that reading counts as 0 behind)."""
    lag = None
    if replayed is not None and primary_position is not None:
        lag = max(0, primary_position - replayed)
    return ReplicaReading(name, True, replayed, lag)


def usable(replica: ReplicaReading, max_lag_bytes: int) -> bool:
    return replica.lag_bytes is not None and replica.lag_bytes <= max_lag_bytes


def replica_for_read(
    replicas: list[ReplicaReading], max_lag_bytes: int, written_lsn: int | None, turn: int
) -> int | None:
    """The index of the replica a read goes to, taking the usable ones that have replayed
    `written_lsn` (the reader's last write, if any) in turn; None: the primary."""
    fit = [
        i
        for i, replica in enumerate(replicas)
        if usable(replica, max_lag_bytes)
        and (written_lsn is None or (replica.replayed or 0) >= written_lsn)
    ]
    if not fit:
        return None
    return fit[turn % len(fit)]
