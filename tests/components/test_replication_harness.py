"""The replication pair the read-replica tests stand on does what it says: the standby is
synchronous and replays the primary's writes, replay pauses and resumes, and after the primary
is killed the promoted standby holds every acknowledged write and takes new ones."""

from __future__ import annotations

import pytest

from tests.components.replication import STANDBY_NAME, ReplicatedPair

pytestmark = [pytest.mark.components, pytest.mark.database]  # starts its own PostgreSQL


async def test_the_standby_is_synchronous_and_replays_writes(pair: ReplicatedPair) -> None:
    sync_state = await pair.fetchval(
        pair.primary,
        "select sync_state from pg_stat_replication where application_name = $1",
        STANDBY_NAME,
    )
    assert sync_state == "sync"
    assert await pair.fetchval(pair.standby, "select pg_is_in_recovery()") is True
    await pair.execute(pair.primary, "create table harness_rows (n int)")
    await pair.execute(pair.primary, "insert into harness_rows values (1), (2)")
    await pair.wait_caught_up()
    assert await pair.fetchval(pair.standby, "select sum(n) from harness_rows") == 3  # 1 + 2
    # Caught up; an idle primary still writes a running-transactions record of a few dozen
    # bytes now and then (every 15 s), which may land in between.
    assert await pair.lag_bytes() <= 200


async def test_paused_replay_hides_a_write_until_resumed(pair: ReplicatedPair) -> None:
    await pair.execute(pair.primary, "create table paused_rows (n int)")
    await pair.wait_caught_up()
    await pair.pause_replay()
    try:
        # The commit returns although replay is paused: synchronous commit waits for the
        # standby to flush the WAL, not to replay it.
        await pair.execute(pair.primary, "insert into paused_rows values (7)")
        assert await pair.fetchval(pair.standby, "select count(*) from paused_rows") == 0
        assert await pair.lag_bytes() > 0
    finally:
        await pair.resume_replay()
    await pair.wait_caught_up()
    assert await pair.fetchval(pair.standby, "select sum(n) from paused_rows") == 7
    assert await pair.lag_bytes() <= 200  # as above


async def test_a_stopped_standby_restarts_and_catches_up(pair: ReplicatedPair) -> None:
    await pair.execute(pair.primary, "create table stopped_rows (n int)")
    await pair.set_synchronous(False)
    pair.stop_standby()
    try:
        await pair.execute(pair.primary, "insert into stopped_rows values (5)")
    finally:
        pair.start_standby()
        await pair.set_synchronous(True)
    await pair.wait_streaming()
    await pair.wait_caught_up()
    assert await pair.fetchval(pair.standby, "select sum(n) from stopped_rows") == 5


async def test_after_the_primary_is_killed_the_promoted_standby_keeps_every_commit(
    pair: ReplicatedPair,
) -> None:
    # Last in the module: the pair is no longer a pair afterwards.
    await pair.execute(pair.primary, "create table acknowledged (n int)")
    for n in range(1, 11):
        await pair.execute(pair.primary, "insert into acknowledged values ($1)", n)
    pair.kill_primary()
    assert not pair.primary.running()
    pair.promote()
    assert await pair.fetchval(pair.standby, "select pg_is_in_recovery()") is False
    # Each of the 10 inserts was acknowledged only once flushed on the standby: 1 + ... + 10.
    assert await pair.fetchval(pair.standby, "select sum(n) from acknowledged") == 55
    await pair.execute(pair.standby, "insert into acknowledged values (100)")
    assert await pair.fetchval(pair.standby, "select sum(n) from acknowledged") == 155
