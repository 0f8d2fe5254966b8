"""Idempotency-Key on writes: a retry gets the first answer and is applied once."""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets
from collections.abc import AsyncIterator

import httpx
import pytest

from service import db as dbmod
from service.app import create_app
from service.config import Settings
from service.models.enums import Scope
from service.store import idempotency
from service.usecases import tokens

TEAM = {"slug": "payments", "name": "Payments"}


def keyed(headers: dict[str, str], key: str) -> dict[str, str]:
    return {**headers, "Idempotency-Key": key}


async def count(con: dbmod.Connection, table: str) -> int:
    return int(await con.fetchval(f"select count(*) from {table}"))


async def test_a_retried_create_gets_the_first_answer_and_creates_once(
    client: httpx.AsyncClient, admin: dict[str, str], con: dbmod.Connection
) -> None:
    first = await client.post("/v1/teams", json=TEAM, headers=keyed(admin, "k-1"))
    again = await client.post("/v1/teams", json=TEAM, headers=keyed(admin, "k-1"))
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert again.headers["content-type"] == "application/json"
    assert await count(con, "team") == 1
    # Without the key, the same request is a new request: the slug is taken.
    unkeyed = await client.post("/v1/teams", json=TEAM, headers=admin)
    assert unkeyed.status_code == 409


async def test_the_same_key_with_another_request_is_a_409_naming_the_header(
    client: httpx.AsyncClient, admin: dict[str, str], con: dbmod.Connection
) -> None:
    assert (await client.post("/v1/teams", json=TEAM, headers=keyed(admin, "k-2"))).is_success
    other = {"slug": "billing", "name": "Billing"}
    r = await client.post("/v1/teams", json=other, headers=keyed(admin, "k-2"))
    assert r.status_code == 409
    assert r.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in r.json()["errors"]] == ["Idempotency-Key"]
    # Another path with the same key is another request too.
    r = await client.post("/v1/services", json={"slug": "pay", "name": "Pay", "tier": 1},
                          headers=keyed(admin, "k-2"))  # fmt: skip
    assert r.status_code == 409
    assert await count(con, "team") == 1
    assert await count(con, "business_service") == 0


async def test_a_failed_request_is_not_stored_and_its_retry_runs_afresh(
    client: httpx.AsyncClient, admin: dict[str, str], con: dbmod.Connection
) -> None:
    bad = await client.post("/v1/teams", json={"slug": "Not A Slug", "name": "x"},
                            headers=keyed(admin, "k-3"))  # fmt: skip
    assert bad.status_code == 422
    assert await count(con, "idempotent_request") == 0
    # The corrected request may reuse the key: nothing was kept for it.
    good = await client.post("/v1/teams", json=TEAM, headers=keyed(admin, "k-3"))
    assert good.status_code == 201
    assert await count(con, "idempotent_request") == 1


async def test_keys_belong_to_their_token(
    client: httpx.AsyncClient, admin: dict[str, str], con: dbmod.Connection
) -> None:
    other = await tokens.create_token(con, name="other-admin", scopes=[Scope.ADMIN])
    other_headers = {"Authorization": f"Bearer {other.token}"}
    a = await client.post("/v1/teams", json=TEAM, headers=keyed(admin, "shared"))
    b = await client.post("/v1/teams", json={"slug": "billing", "name": "Billing"},
                          headers=keyed(other_headers, "shared"))  # fmt: skip
    assert (a.status_code, b.status_code) == (201, 201)
    assert await count(con, "team") == 2


async def test_a_retried_delete_answers_204_again_not_404(
    client: httpx.AsyncClient, admin: dict[str, str], con: dbmod.Connection
) -> None:
    assert (await client.post("/v1/teams", json=TEAM, headers=admin)).status_code == 201
    first = await client.delete("/v1/teams/payments", headers=keyed(admin, "del-1"))
    again = await client.delete("/v1/teams/payments", headers=keyed(admin, "del-1"))
    assert (first.status_code, again.status_code) == (204, 204)
    assert again.headers["idempotent-replayed"] == "true"
    unkeyed = await client.delete("/v1/teams/payments", headers=admin)
    assert unkeyed.status_code == 404


async def test_a_retried_cost_batch_is_replayed(
    client: httpx.AsyncClient, ingester: dict[str, str], con: dbmod.Connection
) -> None:
    batch = [{"category": "cloud", "period_start": "2026-01-01", "period_end": "2026-02-01",
              "amount": 1200.50, "currency": "EUR"}]  # fmt: skip
    first = await client.post("/v1/costs", json=batch, headers=keyed(ingester, "costs-1"))
    again = await client.post("/v1/costs", json=batch, headers=keyed(ingester, "costs-1"))
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert await count(con, "cost_record") == 1


@pytest.mark.parametrize(
    "key", ["", "x" * 256, "has space", "tab\there", "caf\u00e9".encode("utf-8")], ids=repr
)
async def test_a_malformed_key_is_a_422_naming_the_header(
    client: httpx.AsyncClient, admin: dict[str, str], con: dbmod.Connection, key: str | bytes
) -> None:
    raw_key = key if isinstance(key, bytes) else key.encode()
    headers = [(k.encode(), v.encode()) for k, v in admin.items()]
    headers += [(b"idempotency-key", raw_key), (b"content-type", b"application/json")]
    r = await client.post("/v1/teams", content=b'{"slug": "payments", "name": "Payments"}',
                          headers=headers)  # fmt: skip
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["Idempotency-Key"]
    assert await count(con, "team") == 0


async def test_token_creation_never_stores_the_secret(
    client: httpx.AsyncClient, admin: dict[str, str], con: dbmod.Connection
) -> None:
    r = await client.post("/v1/tokens", json={"name": "ci", "scopes": ["ingest"]},
                          headers=keyed(admin, "tok-1"))  # fmt: skip
    assert r.status_code == 201
    assert await count(con, "idempotent_request") == 0


async def test_stored_answers_are_forgotten_after_a_day(
    client: httpx.AsyncClient, admin: dict[str, str], con: dbmod.Connection
) -> None:
    assert (await client.post("/v1/teams", json=TEAM, headers=keyed(admin, "old"))).is_success
    await con.execute("update idempotent_request set created_at = now() - interval '25 hours'")
    assert (await client.post("/v1/teams", json={"slug": "billing", "name": "Billing"},
                              headers=keyed(admin, "new"))).is_success  # fmt: skip
    now = await con.fetchval("select now()")
    assert await idempotency.purge(con, before=now - dt.timedelta(hours=24)) == 1
    assert await con.fetchval("select array_agg(key) from idempotent_request") == ["new"]


@pytest.fixture
async def pooled(database_url: str) -> AsyncIterator[tuple[httpx.AsyncClient, str, str]]:
    """The app on a real pool over a fresh schema: requests run concurrently, data commits."""
    schema = f"kpi_idem_{secrets.token_hex(4)}"
    con = await dbmod.connect(database_url, schema)
    await dbmod.migrate(con, schema)
    token = await tokens.create_token(con, name="admin", scopes=[Scope.ADMIN])
    pool = await dbmod.create_pool(database_url, schema, 2, 4)
    app = create_app(Settings(db_schema=schema), db=dbmod.PoolDatabase(pool))
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://kpi.test") as client:
            yield client, token.token, schema
    finally:
        await pool.close()
        await con.execute(f'drop schema if exists "{schema}" cascade')
        await con.close()


async def test_concurrent_retries_apply_once_and_all_get_the_first_answer(
    pooled: tuple[httpx.AsyncClient, str, str], database_url: str
) -> None:
    client, token, schema = pooled
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "race"}
    answers = await asyncio.gather(
        *(client.post("/v1/teams", json=TEAM, headers=headers) for _ in range(4))
    )
    assert [r.status_code for r in answers] == [201] * 4
    assert len({r.text for r in answers}) == 1
    assert sum(r.headers.get("idempotent-replayed") == "true" for r in answers) == 3
    con = await dbmod.connect(database_url, schema)
    try:
        assert await count(con, "team") == 1
    finally:
        await con.close()
