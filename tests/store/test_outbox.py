"""The outbox repository on a real Postgres: rows queued once per escalation step, claimed
with a lease, each attempt recorded, read back typed; the signing key made once."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from service import db as dbmod
from service.models.catalog import KpiIn
from service.models.enums import Aggregation, Direction
from service.models.notifications import AttemptOutcome, ClaimedNotification, Notification
from service.store import escalations, outbox
from service.usecases import catalog

UTC = dt.UTC
T0 = dt.datetime(2031, 3, 1, 9, 0, tzinfo=UTC)
LEASE = T0 + dt.timedelta(minutes=2)


async def queue(con: dbmod.Connection, n: int) -> int:
    found = await outbox.enqueue(
        con, escalation_id=None, position=None, message_id=f"msg_store_{n}",
        url=f"https://hooks.example/{n}", event_type="test", payload={"n": n},
    )  # fmt: skip
    assert found is not None
    return found


async def listed(con: dbmod.Connection, outbox_id: int) -> Notification:
    (found,) = [
        n for n in await outbox.list_notifications(con, state=None, before_id=None, limit=1000)
        if n.id == outbox_id
    ]  # fmt: skip
    return found


async def test_a_claim_counts_the_attempt_and_leases_the_row(con: dbmod.Connection) -> None:
    await con.execute("update outbox set state = 'failed' where state = 'pending'")
    first, second = await queue(con, 1), await queue(con, 2)
    await con.execute("update outbox set next_attempt_at = $1 where id = any($2)", T0,
                      [first, second])  # fmt: skip
    claimed = await outbox.claim_due(con, at=T0, lease_end=LEASE, limit=1)
    assert claimed == [ClaimedNotification(
        id=first, message_id="msg_store_1", url="https://hooks.example/1", payload={"n": 1},
        attempts=1,
    )]  # fmt: skip
    assert (await listed(con, first)).next_attempt_at == LEASE
    assert [c.id for c in await outbox.claim_due(con, at=T0, lease_end=LEASE, limit=10)] == [second]
    assert await outbox.claim_due(con, at=T0, lease_end=LEASE, limit=10) == []


async def test_attempts_are_kept_and_decide_the_state(con: dbmod.Connection) -> None:
    ok, bad = await queue(con, 1), await queue(con, 2)
    await con.execute("update outbox set next_attempt_at = $1 where id = any($2)", T0, [ok, bad])
    await con.execute("update outbox set attempts = 1 where id = any($1)", [ok, bad])
    await outbox.insert_attempt(con, AttemptOutcome(ok, 1, 204, None, 12.5), T0)
    await outbox.mark_delivered(con, ok, T0)
    await outbox.insert_attempt(con, AttemptOutcome(bad, 1, 500, None, 3.0), T0)
    retry = T0 + dt.timedelta(seconds=10)
    await outbox.mark_undelivered(
        con, bad, attempts=1, next_attempt_at=retry, final=False, last_error="HTTP 500"
    )
    delivered, pending = await listed(con, ok), await listed(con, bad)
    assert (delivered.state, delivered.delivered_at) == ("delivered", T0)
    assert [(a.status_code, a.duration_ms) for a in delivered.attempt_log] == [(204, 12.5)]
    assert (pending.state, pending.next_attempt_at, pending.last_error) == (
        "pending", retry, "HTTP 500")  # fmt: skip

    # A stale claim (fewer attempts than the row's) decides nothing.
    await outbox.mark_undelivered(
        con, bad, attempts=0, next_attempt_at=retry, final=True, last_error="stale"
    )
    assert (await listed(con, bad)).state == "pending"
    await outbox.mark_undelivered(
        con, bad, attempts=1, next_attempt_at=retry, final=True, last_error="HTTP 410"
    )
    failed = await outbox.list_notifications(con, state="failed", before_id=None, limit=1000)
    assert bad in [n.id for n in failed]


async def test_an_escalation_step_is_queued_once(con: dbmod.Connection) -> None:
    kpi = await catalog.KPIS.create(con, KpiIn(
        key="orders", name="Orders", unit="count", direction=Direction.HIGHER_IS_BETTER,
        aggregation=Aggregation.SUM,
    ))  # fmt: skip
    esc_id = await escalations.open_escalation(con, kpi.id, None, T0, T0)
    args: dict[str, Any] = {
        "escalation_id": esc_id, "position": 1, "url": "https://hooks.example/x",
        "event_type": "test", "payload": {},
    }  # fmt: skip
    assert await outbox.enqueue(con, message_id="msg_a", **args) is not None
    assert await outbox.enqueue(con, message_id="msg_b", **args) is None
    # Without an escalation there is no step to dedupe on: each call queues.
    args["escalation_id"] = args["position"] = None
    assert await outbox.enqueue(con, message_id="msg_c", **args) is not None
    assert await outbox.enqueue(con, message_id="msg_d", **args) is not None


async def test_the_signing_key_is_made_once(con: dbmod.Connection) -> None:
    first = await outbox.signing_key(con, "store-test", b"k" * 32)
    assert first == b"k" * 32
    assert await outbox.signing_key(con, "store-test", b"x" * 32) == first


async def test_pending_rows_of_earlier_versions_get_the_envelope(con: dbmod.Connection) -> None:
    """The migration notification_envelope: a row still to be sent, queued with its data
    alone, is wrapped in the Standard Webhooks envelope; a delivered one keeps its body."""
    old = {"type": "kpi.escalation.step", "kpi": {"key": "orders"}, "service": "erp"}
    ids = {}
    for state in ("pending", "delivered"):
        ids[state] = await con.fetchval(
            "insert into outbox (message_id, url, event_type, payload, state, created_at)"
            " values ($1, 'https://hooks.example/x', 'kpi.escalation.step', $2, $3,"
            " '2026-11-02 09:30:05+01') returning id",
            f"msg_old_{state}", old, state,
        )  # fmt: skip
    migrations = Path(__file__).parents[2] / "sql/migrations"
    (migration,) = migrations.glob("*_notification_envelope.sql")
    await con.execute(migration.read_text())
    await con.execute(migration.read_text())  # a body in the envelope is left as it is
    payload = "select payload from outbox where id = $1"
    assert await con.fetchval(payload, ids["pending"]) == {
        "type": "kpi.escalation.step",
        "timestamp": "2026-11-02T08:30:05Z",  # 09:30:05 at +01:00
        "data": {"kpi": {"key": "orders"}, "service": "erp"},
    }
    assert await con.fetchval(payload, ids["delivered"]) == old
