"""`kpi doctor` over rows written as the code before the hardening wrote them (inserted with
SQL, the checks that now refuse them lifted for the test's transaction), and the migration
`stored_data_in_range` repairing what it can of such rows."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

import httpx
import pytest

from service import db as dbmod
from service.config import Settings
from service.demo import load_demo
from service.models.urls import is_demo_receiver
from service.usecases import doctor
from service.usecases import notifications as outbox

Headers = dict[str, str]
NOW = dt.datetime(2026, 12, 6, 12, 0, tzinfo=dt.UTC)
LIFTED = {
    "cost_record": "cost_record_period_in_range",
    "target": "target_dates_in_range",
    "incident": "incident_times_in_range",
}


async def run(con: dbmod.Connection, settings: Settings, **kwargs: Any) -> tuple[int, list[str]]:
    said: list[str] = []
    code = await doctor.run(con, settings, NOW, said.append, **kwargs)
    return code, said


async def test_nothing_to_report_is_exit_0(con: dbmod.Connection, settings: Settings) -> None:
    code, said = await run(con, settings)
    assert (code, said[1:]) == (0, ["ok: no stored data breaks the current rules"])
    # What retention keeps (the defaults) and has done, first.
    assert said[0].startswith(
        "retention: observations for ever, delivery payloads for ever, idempotent answers 24"
        " hour(s); oldest observation partition "
    )
    assert said[0].endswith("; no round yet")


async def old_rows(con: dbmod.Connection) -> dict[str, int]:
    """What the earlier code let through: a cost period ending at 'infinity' (sent as
    9999-12-31), a target from '-infinity', an incident resolved at 'infinity', webhook steps
    with credentials and a numeric loopback host, a notification queued for the database's
    port, an escalation event naming a URL, and a partition for one month of 2199."""
    for table, check in LIFTED.items():
        await con.execute(f"alter table {table} drop constraint {check}")
    await con.execute(
        "insert into business_service (slug, name, tier) values ('checkout', 'Checkout', 1)"
    )
    kpi_id = await con.fetchval(
        "insert into kpi (key, name, unit, direction, aggregation, kind) values"
        " ('orders', 'Orders', 'count', 'higher_is_better', 'sum', 'observed') returning id"
    )
    ids = {
        "cost": await con.fetchval(
            "insert into cost_record (category, period_start, period_end, amount, currency)"
            " values ('cloud', '2026-10-01', 'infinity', 100, 'EUR') returning id"
        ),
        "target": await con.fetchval(
            "insert into target (kpi_id, value, effective_from) values ($1, 10, '-infinity')"
            " returning id",
            kpi_id,
        ),
        "incident": await con.fetchval(
            "insert into incident (source_id, external_id, service_id, status, started_at,"
            " resolved_at) select s.id, 'inc-1', b.id, 'resolved', '2026-11-01T00:00:00Z',"
            " 'infinity' from source s, business_service b where s.name = 'api' returning id"
        ),
    }
    await con.execute(
        "insert into escalation_step (kpi_id, position, who, channel, address) values"
        " ($1, 1, 'ops', 'webhook', 'https://user:pw@hooks.example.com/x'),"
        " ($1, 2, 'ops', 'webhook', 'http://0x7f000001:8080/hook'),"
        " ($1, 3, 'ops', 'webhook', 'https://hooks.example.com/fine')",
        kpi_id,
    )
    ids["notification"] = await outbox.enqueue(
        con, escalation_id=None, position=None, url="http://127.0.0.1:5432/",
        event_type="kpi.escalation.step", occurred_at=dt.datetime(2026, 11, 2, tzinfo=dt.UTC),
        data={},
    )  # fmt: skip
    escalation = await con.fetchval(
        "insert into escalation (kpi_id, opened_period, last_period) values"
        " ($1, '2026-11-01', '2026-11-01') returning id",
        kpi_id,
    )
    await con.execute(
        "insert into escalation_event (escalation_id, kind, position, detail) values"
        " ($1, 'step', 1, 'ops via webhook https://user:pw@hooks.example.com/x')",
        escalation,
    )
    far = [dt.datetime(2199, 7, 4, tzinfo=dt.UTC)]
    await con.execute("select ensure_observation_partitions($1, '-infinity', 'infinity')", far)
    await con.execute(
        "insert into observation (kpi_id, ts, value) values ($1, $2, 3)", kpi_id, far[0]
    )
    return ids


async def test_doctor_lists_each_kind_with_counts_and_fixes(
    con: dbmod.Connection, settings: Settings
) -> None:
    ids = await old_rows(con)
    code, said = await run(con, settings)
    assert code == 1
    problems = [line for line in said if line.startswith("PROBLEM ")]
    assert problems == [
        "PROBLEM cost_record.period_end: 1 row(s) with a date or time outside 1970-2200 (such "
        "as 'infinity'); reads over them fail (a logged server error)",
        "PROBLEM incident.resolved_at: 1 row(s) with a date or time outside 1970-2200 (such as "
        "'infinity'); reads over them fail (a logged server error)",
        "PROBLEM target.effective_from: 1 row(s) with a date or time outside 1970-2200 (such "
        "as 'infinity'); reads over them fail (a logged server error)",
        "PROBLEM observation partitions: 1 monthly partition(s) outside the horizon 2021-12 to "
        "2028-01 (KPI_OBSERVATION_PARTITION_YEARS=5); every series read without bounds visits "
        "each one",
        "PROBLEM escalation webhook URLs: 2 webhook step(s) whose URL the outbound rules "
        "refuse: their notifications are never sent",
        "PROBLEM pending notification URLs: 1 pending notification(s) to URLs the outbound "
        "rules refuse: each will be tried until it is marked failed",
        "PROBLEM escalation events naming URLs: 1 escalation event(s) whose text names a "
        "webhook URL, which read tokens see",
    ]
    text = "\n".join(said)
    assert f"e.g. id {ids['cost']}" in text
    assert "fix: correct each record with PUT /v1/costs/{id}" in text
    assert "e.g. observation_2199_07" in text
    assert "orders step 1: the URL must not carry credentials" in text
    assert "orders step 2: the URL must write the address 127.0.0.1 in its usual form" in text
    assert f"e.g. notification {ids['notification']}" in text
    assert said[-1] == "7 kind(s) of stored data break the current rules"

    # Allowing the receiver's host settles the notification; the rest stays until fixed.
    allowing = settings.model_copy(update={"outbound_allow": ["127.0.0.1"]})
    _, said = await run(con, allowing)
    assert not any(line.startswith("PROBLEM pending notification") for line in said)


async def test_the_fixes_the_doctor_names_clear_its_findings(
    con: dbmod.Connection, settings: Settings, client: httpx.AsyncClient, admin: Headers
) -> None:
    ids = await old_rows(con)
    code, said = await run(con, settings, fold=True)
    assert said[0] == "folded 1 partition(s) into observation_default"
    assert not any("observation partitions" in line for line in said)
    assert await con.fetchval("select count(*) from observation") == 1  # nothing lost

    fixed = {"category": "cloud", "period_start": "2026-10-01", "period_end": "2026-11-01",
             "amount": 100, "currency": "EUR"}  # fmt: skip
    resp = await client.put(f"/v1/costs/{ids['cost']}", json=fixed, headers=admin)
    assert resp.status_code == 200, resp.text
    assert (await client.delete(f"/v1/targets/{ids['target']}", headers=admin)).status_code == 204
    await con.execute("update incident set resolved_at = null where id = $1", ids["incident"])
    step = {"who": "ops", "channel": "webhook", "address": "https://hooks.example.com/x"}
    kpi = {"key": "orders", "name": "Orders", "unit": "count", "direction": "higher_is_better",
           "aggregation": "sum", "escalation_path": [step]}  # fmt: skip
    assert (await client.put("/v1/kpis/orders", json=kpi, headers=admin)).status_code == 200
    await con.execute("delete from outbox where id = $1", ids["notification"])
    await con.execute("update escalation_event set detail = 'ops via webhook hooks.example.com'")
    code, said = await run(con, settings)
    assert (code, said[-1]) == (0, "ok: no stored data breaks the current rules")
    assert not any(line.startswith("PROBLEM") for line in said)


HARDENING = "stored_data_in_range"


@pytest.fixture
async def schema_before_hardening(con: dbmod.Connection) -> str:
    """A schema of its own (inside the test's transaction) migrated up to the migration before
    `stored_data_in_range`: the database as it was before the hardening."""
    name = f"before_hardening_{secrets.token_hex(3)}"
    await con.execute(f'create schema "{name}"')
    await con.execute(f'set local search_path to "{name}"')
    (hardening,) = [m for m in dbmod.load_migrations() if m.name == HARDENING]
    for migration in dbmod.load_migrations():
        if migration.version < hardening.version:
            await con.execute(migration.sql)
    return name


async def test_the_migration_repairs_what_it_can_without_losing_anything(
    con: dbmod.Connection, schema_before_hardening: str
) -> None:
    kpi_id = await con.fetchval(
        "insert into kpi (key, name, unit, direction, aggregation, kind) values"
        " ('orders', 'Orders', 'count', 'higher_is_better', 'sum', 'observed') returning id"
    )
    await con.execute(
        "insert into target (kpi_id, value, effective_from, effective_to) values"
        " ($1, 10, '2026-01-01', 'infinity'), ($1, 20, '2027-01-01', '2027-06-01')",
        kpi_id,
    )
    escalation = await con.fetchval(
        "insert into escalation (kpi_id, opened_period, last_period) values"
        " ($1, '2026-11-01', '2026-11-01') returning id",
        kpi_id,
    )
    await con.execute(
        "insert into escalation_event (escalation_id, kind, position, detail) values"
        " ($1, 'step', 1, 'ops via webhook https://user:pw@hooks.example.com:8443/a?t=s'),"
        " ($1, 'step', 2, 'ops via webhook http://[::1]:9000/hook'),"
        " ($1, 'step', 3, 'ops via email ops@example.com')",
        escalation,
    )
    # The attack, as the earlier code took it: a partition for each of three far months.
    far = [dt.datetime(1975, 1, 1, tzinfo=dt.UTC), dt.datetime(2150, 1, 1, tzinfo=dt.UTC),
           dt.datetime(2199, 12, 1, tzinfo=dt.UTC)]  # fmt: skip
    await con.execute("select ensure_observation_partitions($1)", far)
    await con.execute(
        "insert into observation (kpi_id, ts, value) select $1, t, 1"
        " from unnest($2::timestamptz[]) t",
        kpi_id, far,
    )  # fmt: skip
    day_rows = await con.fetchval("select count(*) from observation_day")

    (migration,) = [m for m in dbmod.load_migrations() if m.name == HARDENING]
    await con.execute(migration.sql)

    targets = await con.fetch("select value, effective_to from target order by value")
    assert [(t["value"], t["effective_to"]) for t in targets] == [
        (10.0, None),  # 'infinity' meant never ending: no end
        (20.0, dt.date(2027, 6, 1)),
    ]
    details = await con.fetch("select detail from escalation_event order by position")
    assert [d["detail"] for d in details] == [
        "ops via webhook hooks.example.com",
        "ops via webhook [::1]",
        "ops via email ops@example.com",
    ]
    parts = await con.fetch(
        "select c.relname from pg_inherits i join pg_class c on c.oid = i.inhrelid"
        " where i.inhparent = 'observation'::regclass"
    )
    assert [p["relname"] for p in parts] == ["observation_default"]
    assert await con.fetchval("select count(*) from observation_default") == 3
    assert await con.fetchval("select count(*) from observation_day") == day_rows
    # From now on the range holds for new rows.
    with pytest.raises(Exception, match="cost_record_period_in_range"):
        async with con.transaction():
            await con.execute(
                "insert into cost_record (category, period_start, period_end, amount, currency)"
                " values ('cloud', '2026-10-01', 'infinity', 1, 'EUR')"
            )


async def test_rows_stored_before_the_rules_stay_readable(
    con: dbmod.Connection, client: httpx.AsyncClient, admin: Headers, reader: Headers
) -> None:
    """What a request may no longer send is still read back as stored, so it can be seen and
    corrected: a name with a zero-width space, a webhook URL with credentials, a target from
    '-infinity'."""
    ids = await old_rows(con)
    await con.execute("update business_service set name = 'Check\u200bout'")
    resp = await client.get("/v1/services/checkout", headers=reader)
    assert resp.json()["name"] == "Check\u200bout"
    resp = await client.get("/v1/kpis/orders", headers=admin)
    assert resp.status_code == 200, resp.text
    addresses = [s["address"] for s in resp.json()["escalation_path"]]
    assert addresses[0] == "https://user:pw@hooks.example.com/x"
    resp = await client.get("/v1/kpis/orders", headers=reader)
    assert resp.json()["escalation_path"][0]["address"] == "hooks.example.com"
    resp = await client.get(f"/v1/targets/{ids['target']}", headers=reader)
    assert resp.json()["effective_from"] == "0001-01-01"


async def test_the_demo_receiver_is_no_finding(con: dbmod.Connection, settings: Settings) -> None:
    """The demo's steps post to the receiver `kpi serve --demo` serves on loopback: sent only
    in demo mode, so not a URL to fix; any other loopback URL still is."""
    await load_demo(
        con, today=dt.date(2026, 11, 23), receiver="http://127.0.0.1:8000/demo/receiver"
    )
    code, said = await run(con, settings)
    assert (code, said[-1]) == (0, "ok: no stored data breaks the current rules")
    assert not any(line.startswith("PROBLEM") for line in said)
    assert is_demo_receiver("http://127.0.0.1:8000/demo/receiver/dora")
    assert is_demo_receiver("http://localhost:9000/demo/receiver/dora")
    for other in (
        "http://127.0.0.1:8000/v1/tokens",
        "http://127.0.0.1:8000/demo/receiver/../../v1/tokens",
        "https://127.0.0.1:8000/demo/receiver/dora",
        "http://10.0.0.1:8000/demo/receiver/dora",
        "https://hooks.example.com/demo/receiver/dora",
    ):
        assert not is_demo_receiver(other), other
