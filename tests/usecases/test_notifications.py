"""The notification outbox end to end: a real receiver on a local port that checks each
signature with the spec's algorithm written out here, on a real Postgres, without mocks."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import datetime as dt
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from service import db as dbmod
from service.models.catalog import KpiIn
from service.models.enums import Aggregation, Direction
from service.models.notifications import Notification
from service.notify import signing
from service.usecases import catalog, notifications
from tests.conftest import SingleConnectionDatabase
from tests.notify.receiver import LOOPBACK, Receiver, free_port, serving

Headers = dict[str, str]

SECRET = signing.new_secret_key()
T0 = dt.datetime(2031, 3, 1, 9, 0, tzinfo=dt.UTC)
DATA: dict[str, Any] = {"kpi": "orders", "service": "erp", "position": 1, "note": "é ✓"}
#: What a notification queued at T0 with DATA sends: the Standard Webhooks envelope.
PAYLOAD: dict[str, Any] = {
    "type": "kpi.escalation.step",
    "timestamp": "2031-03-01T09:00:00Z",
    "data": DATA,
}


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with serving(Receiver(secret=SECRET)) as running:
        yield running


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


@pytest.fixture
def db(con: dbmod.Connection) -> SingleConnectionDatabase:
    return SingleConnectionDatabase(con)


async def queue(con: dbmod.Connection, url: str, **kwargs: Any) -> int:
    args: dict[str, Any] = {"escalation_id": None, "position": None, "data": DATA} | kwargs
    outbox_id = await notifications.enqueue(
        con, url=url, event_type="kpi.escalation.step", occurred_at=T0, **args
    )
    assert outbox_id is not None
    return outbox_id


async def row(con: dbmod.Connection, outbox_id: int) -> Notification:
    found = [
        n for n in await notifications.list_notifications(con, limit=1000) if n.id == outbox_id
    ]
    assert len(found) == 1
    return found[0]


async def test_a_notification_is_delivered_once_signed(
    con: dbmod.Connection, db: SingleConnectionDatabase, receiver: Receiver, http: httpx.AsyncClient
) -> None:
    outbox_id = await queue(con, receiver.url)
    report = await notifications.deliver_due(db, http, SECRET, now=T0, allow=LOOPBACK)
    assert (report.delivered, report.retrying, report.failed) == ([outbox_id], [], [])

    assert len(receiver.received) == 1
    got = receiver.received[0]
    assert got.valid
    notification = await row(con, outbox_id)
    assert got.msg_id == notification.message_id
    assert notification.message_id.startswith("msg_")
    assert got.headers["webhook-timestamp"] == str(int(T0.timestamp()))
    assert got.headers["content-type"] == "application/json"
    assert json.loads(got.body) == PAYLOAD
    assert signing.verify(SECRET, got.headers, got.body, now=int(T0.timestamp()))

    assert notification.state == "delivered"
    assert notification.delivered_at == T0
    assert notification.attempts == 1
    assert notification.last_error is None
    assert [(a.at, a.status_code, a.error) for a in notification.attempt_log] == [(T0, 204, None)]
    assert notification.attempt_log[0].duration_ms > 0

    # delivered is done: nothing is sent again, however late
    report = await notifications.deliver_due(
        db, http, SECRET, now=T0 + dt.timedelta(days=30), allow=LOOPBACK
    )
    assert report.attempted == 0
    assert len(receiver.received) == 1


async def test_a_failed_attempt_is_retried_when_due_with_the_same_id(
    con: dbmod.Connection, db: SingleConnectionDatabase, receiver: Receiver, http: httpx.AsyncClient
) -> None:
    receiver.fail_first = 1
    outbox_id = await queue(con, receiver.url)
    report = await notifications.deliver_due(db, http, SECRET, now=T0, allow=LOOPBACK)
    assert report.retrying == [outbox_id]
    notification = await row(con, outbox_id)
    assert notification.state == "pending"
    assert notification.next_attempt_at == T0 + notifications.backoff(1)
    assert notification.last_error == "HTTP 500"
    assert [(a.status_code, a.error) for a in notification.attempt_log] == [(500, None)]

    due = T0 + notifications.backoff(1)
    report = await notifications.deliver_due(
        db, http, SECRET, now=due - dt.timedelta(seconds=1), allow=LOOPBACK
    )
    assert report.attempted == 0
    assert len(receiver.received) == 1

    report = await notifications.deliver_due(db, http, SECRET, now=due, allow=LOOPBACK)
    assert report.delivered == [outbox_id]
    first, second = receiver.received
    assert first.valid and second.valid
    assert first.msg_id == second.msg_id == notification.message_id
    assert first.body == second.body
    assert second.headers["webhook-timestamp"] == str(int(due.timestamp()))
    notification = await row(con, outbox_id)
    assert (notification.state, notification.attempts, notification.delivered_at) == (
        "delivered", 2, due)  # fmt: skip
    assert notification.last_error is None
    assert [(a.at, a.status_code) for a in notification.attempt_log] == [(T0, 500), (due, 204)]


async def test_an_unreachable_receiver_is_an_error_recorded(
    con: dbmod.Connection, db: SingleConnectionDatabase, http: httpx.AsyncClient
) -> None:
    outbox_id = await queue(con, f"http://127.0.0.1:{free_port()}/hook")
    report = await notifications.deliver_due(db, http, SECRET, now=T0, allow=LOOPBACK)
    assert report.retrying == [outbox_id]
    notification = await row(con, outbox_id)
    (attempt,) = notification.attempt_log
    assert attempt.status_code is None
    # Said without the system's error text, address or port: nothing to map a network with.
    assert attempt.error == "no answer: the connection could not be made or was lost"
    assert notification.last_error == attempt.error
    assert notification.next_attempt_at == T0 + notifications.backoff(1)


async def test_a_slow_receiver_times_out(
    con: dbmod.Connection, db: SingleConnectionDatabase, receiver: Receiver, http: httpx.AsyncClient
) -> None:
    receiver.delay = 0.5
    outbox_id = await queue(con, receiver.url)
    report = await notifications.deliver_due(db, http, SECRET, now=T0, timeout=0.1, allow=LOOPBACK)
    assert report.retrying == [outbox_id]
    (attempt,) = (await row(con, outbox_id)).attempt_log
    assert (attempt.status_code, attempt.error) == (None, "no answer within 0.1 s")
    assert attempt.duration_ms < 400


async def test_after_max_attempts_it_is_failed_and_still_listed(
    con: dbmod.Connection, db: SingleConnectionDatabase, receiver: Receiver, http: httpx.AsyncClient
) -> None:
    receiver.fail_first = 1000
    outbox_id = await queue(con, receiver.url)
    now = T0
    for attempt in range(1, notifications.MAX_ATTEMPTS + 1):
        report = await notifications.deliver_due(db, http, SECRET, now=now, allow=LOOPBACK)
        notification = await row(con, outbox_id)
        assert notification.attempts == attempt
        if attempt < notifications.MAX_ATTEMPTS:
            assert report.retrying == [outbox_id]
            assert notification.next_attempt_at == now + notifications.backoff(attempt)
            now = notification.next_attempt_at
    assert report.failed == [outbox_id]
    assert len(receiver.received) == notifications.MAX_ATTEMPTS
    assert len({r.msg_id for r in receiver.received}) == 1
    assert all(r.valid for r in receiver.received)

    report = await notifications.deliver_due(
        db, http, SECRET, now=now + dt.timedelta(days=30), allow=LOOPBACK
    )
    assert report.attempted == 0
    failed = await notifications.list_notifications(con, state="failed")
    assert [n.id for n in failed] == [outbox_id]
    assert failed[0].last_error == "HTTP 500"
    assert [a.status_code for a in failed[0].attempt_log] == [500] * notifications.MAX_ATTEMPTS
    assert await notifications.list_notifications(con, state="pending") == []


async def test_gone_stops_at_once(
    con: dbmod.Connection, db: SingleConnectionDatabase, receiver: Receiver, http: httpx.AsyncClient
) -> None:
    receiver.fail_first, receiver.fail_status = 1, 410
    outbox_id = await queue(con, receiver.url)
    report = await notifications.deliver_due(db, http, SECRET, now=T0, allow=LOOPBACK)
    assert report.failed == [outbox_id]
    assert (await row(con, outbox_id)).state == "failed"


def test_backoff() -> None:
    waits = [notifications.backoff(n) for n in range(1, 10)]
    assert waits == [
        dt.timedelta(seconds=10), dt.timedelta(seconds=30), dt.timedelta(minutes=2),
        dt.timedelta(minutes=10), dt.timedelta(minutes=30), dt.timedelta(hours=1),
        dt.timedelta(hours=2), dt.timedelta(hours=2), dt.timedelta(hours=2),
    ]  # fmt: skip


class CrashAfterSend:
    """Lends the connection for the claim, then dies before the outcome is recorded."""

    def __init__(self, db: SingleConnectionDatabase) -> None:
        self.db = db
        self.lent = 0

    @contextlib.asynccontextmanager
    async def acquire(self) -> AsyncIterator[dbmod.Connection]:
        self.lent += 1
        if self.lent > 1:
            raise RuntimeError("worker died")
        async with self.db.acquire() as con:
            yield con


async def test_a_crash_after_sending_means_sending_again_not_losing_it(
    con: dbmod.Connection, db: SingleConnectionDatabase, receiver: Receiver, http: httpx.AsyncClient
) -> None:
    outbox_id = await queue(con, receiver.url)
    with pytest.raises(RuntimeError, match="worker died"):
        await notifications.deliver_due(
            CrashAfterSend(db), http, SECRET, now=T0, timeout=5, allow=LOOPBACK
        )
    assert len(receiver.received) == 1
    notification = await row(con, outbox_id)
    lease_end = T0 + dt.timedelta(seconds=5) + notifications.LEASE_MARGIN
    assert (notification.state, notification.next_attempt_at) == ("pending", lease_end)

    # claimed: no other worker sends it meanwhile
    report = await notifications.deliver_due(
        db, http, SECRET, now=lease_end - dt.timedelta(seconds=1), allow=LOOPBACK
    )
    assert report.attempted == 0
    report = await notifications.deliver_due(db, http, SECRET, now=lease_end, allow=LOOPBACK)
    assert report.delivered == [outbox_id]
    first, second = receiver.received
    assert first.msg_id == second.msg_id


async def test_one_escalation_step_is_queued_once(con: dbmod.Connection) -> None:
    kpi = await catalog.create_kpi(con, kpi=KpiIn(
        key="orders", name="Orders", unit="n", direction=Direction.HIGHER_IS_BETTER,
        aggregation=Aggregation.SUM))  # fmt: skip
    escalation_id = await con.fetchval(
        "insert into escalation (kpi_id, opened_period, last_period) values ($1, $2, $2)"
        " returning id",
        kpi.id,
        T0,
    )
    first = await notifications.enqueue(
        con, escalation_id=escalation_id, position=1, url="http://127.0.0.1:9/a",
        event_type="kpi.escalation.step", occurred_at=T0, data=DATA,
    )  # fmt: skip
    again = await notifications.enqueue(
        con, escalation_id=escalation_id, position=1, url="http://127.0.0.1:9/b",
        event_type="kpi.escalation.step", occurred_at=T0, data={"other": True},
    )  # fmt: skip
    next_step = await notifications.enqueue(
        con, escalation_id=escalation_id, position=2, url="http://127.0.0.1:9/a",
        event_type="kpi.escalation.step", occurred_at=T0, data=DATA,
    )  # fmt: skip
    assert first is not None and next_step is not None
    assert again is None
    rows = await con.fetch("select id, position, url from outbox order by id")
    assert [(r["id"], r["position"], r["url"]) for r in rows] == [
        (first, 1, "http://127.0.0.1:9/a"), (next_step, 2, "http://127.0.0.1:9/a")]  # fmt: skip


async def test_signing_secret_is_made_once(con: dbmod.Connection) -> None:
    made = await notifications.signing_secret(con, None)
    assert len(made) == signing.SECRET_BYTES
    assert await notifications.signing_secret(con, None) == made
    assert await con.fetchval("select count(*) from signing_key") == 1
    configured = signing.format_secret(SECRET)
    assert await notifications.signing_secret(con, configured) == SECRET
    with pytest.raises(ValueError, match="whsec_"):
        await notifications.signing_secret(con, "not-a-secret")


# Committed data on separate connections: each test removes what it made.


@pytest.fixture
async def setup_con(database_url: str, db_schema: str) -> AsyncIterator[dbmod.Connection]:
    con = await dbmod.connect(database_url, db_schema)
    try:
        yield con
    finally:
        await con.close()


async def test_two_first_calls_at_once_agree_on_the_signing_secret(
    setup_con: dbmod.Connection, database_url: str, db_schema: str
) -> None:
    other = await dbmod.connect(database_url, db_schema)
    try:
        tr = setup_con.transaction()
        await tr.start()
        mine = await notifications.signing_secret(setup_con, None)

        async def theirs() -> bytes:
            async with other.transaction():
                return await notifications.signing_secret(other, None)

        waiting = asyncio.create_task(theirs())
        await asyncio.sleep(0.3)
        assert not waiting.done()  # waits on the first insert
        await tr.commit()
        assert await waiting == mine
    finally:
        await setup_con.execute(
            "delete from signing_key where name = $1", notifications.SIGNING_KEY_NAME
        )
        await other.close()


async def test_two_workers_at_once_send_each_notification_exactly_once(
    setup_con: dbmod.Connection, database_url: str, db_schema: str, http: httpx.AsyncClient
) -> None:
    # Notifications other tests of the session left due would be claimed first (the oldest
    # go first), and a worker busy sending those to addresses that never answer could leave
    # all of these to the other one: they wait until this test is done.
    parked = await setup_con.fetch(
        "with due as (select id, next_attempt_at from outbox where state = 'pending' for update)"
        " update outbox o set next_attempt_at = 'infinity' from due where o.id = due.id"
        " returning o.id, due.next_attempt_at as due"
    )
    async with serving(Receiver(secret=SECRET, delay=0.02)) as receiver:
        ids = [await queue(setup_con, receiver.url) for _ in range(30)]
        pools = [await dbmod.create_pool(database_url, db_schema, 1, 2) for _ in range(2)]
        try:
            give_up = asyncio.get_running_loop().time() + 30

            async def worker(pool: Any) -> list[int]:
                sent: list[int] = []
                while True:
                    report = await notifications.deliver_due(
                        dbmod.PoolDatabase(pool), http, SECRET, limit=4, allow=LOOPBACK
                    )
                    sent += report.delivered
                    if report.attempted == 0:
                        # Nothing due: done once none of this test's is left to send (a
                        # claim can come up empty while the other worker holds the rest), or
                        # after 30 s, for the assertions below to tell what is missing.
                        pending = await pool.fetchval(
                            "select count(*) from outbox"
                            " where id = any($1::bigint[]) and state = 'pending'", ids
                        )  # fmt: skip
                        if not pending or asyncio.get_running_loop().time() > give_up:
                            return sent
                        await asyncio.sleep(0.01)

            first, second = await asyncio.gather(*(worker(p) for p in pools))
        finally:
            for pool in pools:
                await pool.close()
            states = await setup_con.fetch(
                "delete from outbox where id = any($1::bigint[]) returning message_id, state", ids
            )
            await setup_con.executemany(
                "update outbox set next_attempt_at = $2 where id = $1",
                [(r["id"], r["due"]) for r in parked],
            )
    assert first and second  # both took part
    assert sorted(first + second) == sorted(ids)
    assert {r["state"] for r in states} == {"delivered"}
    counts = collections.Counter(r.msg_id for r in receiver.received)
    assert sorted(counts) == sorted(r["message_id"] for r in states)
    assert set(counts.values()) == {1}
    assert all(r.valid for r in receiver.received)


async def test_list_endpoint_shows_attempts_to_admins_only(
    client: httpx.AsyncClient,
    con: dbmod.Connection,
    db: SingleConnectionDatabase,
    receiver: Receiver,
    http: httpx.AsyncClient,
    admin: Headers,
    reader: Headers,
) -> None:
    receiver.fail_first = 1
    outbox_id = await queue(con, receiver.url)
    await notifications.deliver_due(db, http, SECRET, now=T0, allow=LOOPBACK)
    await notifications.deliver_due(
        db, http, SECRET, now=T0 + notifications.backoff(1), allow=LOOPBACK
    )

    r = await client.get("/v1/notifications", params={"state": "delivered"}, headers=admin)
    assert r.status_code == 200, r.text
    (listed,) = r.json()
    assert listed["id"] == outbox_id
    assert listed["state"] == "delivered"
    assert listed["message_id"] == receiver.received[0].msg_id
    assert listed["payload"] == PAYLOAD
    assert [a["status_code"] for a in listed["attempt_log"]] == [500, 204]
    assert signing.format_secret(SECRET)[len("whsec_") :] not in r.text

    r = await client.get("/v1/notifications", params={"state": "failed"}, headers=admin)
    assert (r.status_code, r.json()) == (200, [])
    r = await client.get("/v1/notifications", params={"state": "sent"}, headers=admin)
    assert r.status_code == 422, r.text
    assert (await client.get("/v1/notifications", headers=reader)).status_code == 403
    assert (await client.get("/v1/notifications")).status_code == 401
