"""The outbound guard: webhook URLs checked when written and their addresses at every send,
non-public addresses refused unless allowed, failures reported without network detail, and
URLs shown whole to admin tokens only. No test here sends anything beyond loopback: refused
addresses are refused before any connection, and names resolve through a stand-in."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Sequence
from typing import Any

import httpx
import pytest

from service import db as dbmod
from service import outbound
from service.models.urls import check_url
from service.notify import signing
from service.usecases import notifications as outbox
from tests.conftest import SingleConnectionDatabase
from tests.notify.receiver import LOOPBACK, Receiver, serving

Headers = dict[str, str]
SECRET = signing.new_secret_key()
T0 = dt.datetime(2031, 3, 1, 9, 0, tzinfo=dt.UTC)


def kpi_with_webhook(url: str, key: str = "orders") -> dict[str, Any]:
    return {
        "key": key, "name": "Orders", "unit": "count", "direction": "higher_is_better",
        "aggregation": "sum",
        "escalation_path": [{"who": "ops", "channel": "webhook", "address": url}],
    }  # fmt: skip


# When written: syntax -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://", "needs a host"),
        ("http:///hook", "needs a host"),
        ("https://user:pw@hooks.example.com/x", "credentials"),
        ("https://token@hooks.example.com/x", "credentials"),
        ("https://hooks.example.com/x\r\nX-Injected: 1", "control characters"),
        ("https://hooks.example.com/a b", "spaces"),
        ("http://2130706433/hook", "127.0.0.1 in its usual form"),
        ("http://0x7f000001/hook", "127.0.0.1 in its usual form"),
        ("http://0177.0.0.1/hook", "not a valid URL"),  # httpx itself refuses octal
        ("http://127.1/hook", "127.0.0.1 in its usual form"),
        ("ftp://hooks.example.com/x", "http:// or https://"),
        ("javascript:alert(1)", "http:// or https://"),
        ("http://hooks.example.com:99999/x", "port"),
    ],
)
async def test_webhook_urls_breaking_the_rules_are_refused_when_written(
    client: httpx.AsyncClient, con: dbmod.Connection, admin: Headers, url: str, why: str
) -> None:
    resp = await client.post("/v1/kpis", json=kpi_with_webhook(url), headers=admin)
    assert resp.status_code == 422, resp.text
    (error,) = resp.json()["errors"]
    assert error["pointer"] == "#/escalation_path/0/address"
    assert why in error["detail"]
    assert await con.fetchval("select count(*) from kpi") == 0

    mutation = """mutation($input: KpiInput!) { upsertKpi(input: $input) {
        ... on Problem { errors { field detail } } ... on Kpi { key } } }"""
    variables = {"input": {
        "key": "orders", "name": "Orders", "unit": "count", "direction": "HIGHER_IS_BETTER",
        "aggregation": "SUM",
        "escalationPath": [{"who": "ops", "channel": "WEBHOOK", "address": url}],
    }}  # fmt: skip
    resp = await client.post(
        "/graphql", json={"query": mutation, "variables": variables}, headers=admin
    )
    (gql_error,) = resp.json()["data"]["upsertKpi"]["errors"]
    assert gql_error["field"] == "escalationPath.0.address"
    assert await con.fetchval("select count(*) from kpi") == 0


def test_urls_following_the_rules_are_taken_apart() -> None:
    target = check_url("https://Hooks.Example.com./kpi?sig=abc")
    assert (target.host, target.port) == ("hooks.example.com", 443)
    assert check_url("http://[::1]:8080/hook").host == "::1"
    assert check_url("http://10.1.2.3/hook").port == 80


# When sent: addresses ---------------------------------------------------------------------------


def resolving_to(*addresses: str) -> outbound.Resolver:
    async def resolve(host: str, port: int) -> Sequence[str]:
        return list(addresses)

    return resolve


@pytest.mark.parametrize(
    ("url", "addresses"),
    [
        ("http://127.0.0.1:5432/", ()),  # loopback, the database's port
        ("http://[::1]/", ()),
        ("http://0.0.0.0/", ()),  # unspecified: the local host to most stacks
        ("http://169.254.169.254/latest/meta-data/", ()),  # cloud metadata
        ("http://[::ffff:127.0.0.1]/", ()),  # IPv4 loopback written as IPv6
        ("http://10.0.0.8/", ()),
        ("http://192.168.1.1/", ()),
        ("http://172.16.0.1/", ()),
        ("http://100.100.100.200/", ()),  # shared address space (another cloud's metadata)
        ("http://224.0.0.1/", ()),  # multicast
        ("http://localhost:8000/", ("127.0.0.1", "::1")),
        ("http://metadata.google.internal/", ("169.254.169.254",)),
        ("http://[fd00:ec2::254]/", ()),  # unique local: an IPv6 metadata address
        ("http://rebind.example/", ("93.184.216.34", "10.0.0.1")),  # any inward one refuses
    ],
)
async def test_non_public_addresses_are_refused_at_send_time(
    url: str, addresses: tuple[str, ...]
) -> None:
    with pytest.raises(outbound.OutboundRefused, match="KPI_OUTBOUND_ALLOW"):
        await outbound.resolve(url, outbound.AllowList(), resolving_to(*addresses))


async def test_a_name_that_does_not_resolve_is_refused() -> None:
    async def nowhere(host: str, port: int) -> Sequence[str]:
        raise OSError("Name or service not known")

    with pytest.raises(outbound.OutboundRefused, match="does not resolve"):
        await outbound.resolve("https://hooks.invalid/x", outbound.AllowList(), nowhere)


async def test_the_allow_list_names_hosts_and_networks() -> None:
    allow = outbound.AllowList.parse([" receiver.internal ", "10.20.0.0/16", "[::1]", ""])
    public = await outbound.resolve(
        "https://hooks.example.com/", outbound.AllowList(), resolving_to("93.184.216.34")
    )
    assert str(public) == "93.184.216.34"
    named = await outbound.resolve(
        "http://receiver.internal:8080/", allow, resolving_to("10.99.0.7")
    )
    assert str(named) == "10.99.0.7"
    assert str(await outbound.resolve("http://10.20.3.4/", allow)) == "10.20.3.4"
    assert str(await outbound.resolve("http://[::1]/", allow)) == "::1"
    with pytest.raises(outbound.OutboundRefused):
        await outbound.resolve("http://10.21.0.1/", allow)


async def test_an_allowed_url_lets_exactly_that_url_through() -> None:
    """The demo's receiver: its URL and the paths below it, on its scheme, host and port;
    nothing else on that host, and no path climbing out of it."""
    allow = outbound.AllowList.parse([], urls=["http://127.0.0.1:8000/demo/receiver"])
    for url in ("http://127.0.0.1:8000/demo/receiver", "http://127.0.0.1:8000/demo/receiver/dora"):
        assert str(await outbound.resolve(url, allow)) == "127.0.0.1"
        assert outbound.refusal_without_lookup(url, allow) is None
    for url in (
        "http://127.0.0.1:8001/demo/receiver/dora",  # another port
        "https://127.0.0.1:8000/demo/receiver/dora",  # another scheme
        "http://127.0.0.2:8000/demo/receiver/dora",  # another host
        "http://127.0.0.1:8000/demo/receiverx",  # a path that only starts the same
        "http://127.0.0.1:8000/v1/tokens",
        "http://127.0.0.1:8000/demo/receiver/%2e%2e/%2e%2e/v1/tokens",  # climbing out
    ):
        with pytest.raises(outbound.OutboundRefused, match="KPI_OUTBOUND_ALLOW"):
            await outbound.resolve(url, allow)
        assert outbound.refusal_without_lookup(url, allow) == outbound.NOT_ALLOWED


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with serving(Receiver(secret=SECRET)) as running:
        yield running


async def test_the_request_goes_to_the_address_checked_with_the_url_host(
    receiver: Receiver,
) -> None:
    """A name checked as resolving to an allowed address is sent to that address, whatever a
    later lookup would say, with the URL's own host in the Host header."""
    port = receiver.url.split(":")[2].split("/")[0]
    url = f"http://receiver.internal:{port}/hook"
    allow = outbound.AllowList.parse(["receiver.internal"])
    async with httpx.AsyncClient() as http:
        async with outbound.stream(
            http, "POST", url, allow=allow, timeout=5, content=b"{}",
            resolver=resolving_to("127.0.0.1"),
        ) as response:  # fmt: skip
            assert response.status_code == 401  # unsigned: the receiver refuses it, as it should
    (got,) = receiver.received
    assert got.headers["host"] == f"receiver.internal:{port}"


async def queue(con: dbmod.Connection, url: str) -> int:
    outbox_id = await outbox.enqueue(
        con, escalation_id=None, position=None, url=url, event_type="kpi.escalation.step",
        occurred_at=dt.datetime(2031, 3, 1, tzinfo=dt.UTC), data={},
    )  # fmt: skip
    assert outbox_id is not None
    return outbox_id


async def test_an_escalation_webhook_to_loopback_is_not_sent_unless_allowed(
    con: dbmod.Connection, client: httpx.AsyncClient, admin: Headers, receiver: Receiver
) -> None:
    """The attack: an admin points a webhook at an internal port and reads the outcome."""
    db = SingleConnectionDatabase(con)
    probe = await queue(con, "http://127.0.0.1:5432/")  # the database's port
    hook = await queue(con, receiver.url)
    async with httpx.AsyncClient() as http:
        report = await outbox.deliver_due(db, http, SECRET, now=T0, allow=outbound.AllowList())
    assert sorted(report.retrying) == sorted([probe, hook])
    assert receiver.received == []  # nothing reached the receiver either
    resp = await client.get("/v1/notifications", headers=admin)
    errors = {n["id"]: [a["error"] for a in n["attempt_log"]] for n in resp.json()}
    refused = f"not sent: {outbound.NOT_ALLOWED}"
    assert errors == {probe: [refused], hook: [refused]}  # the same words for both ports
    # Allowed, the receiver gets it.
    async with httpx.AsyncClient() as http:
        later = T0 + outbox.backoff(1)
        report = await outbox.deliver_due(db, http, SECRET, now=later, allow=LOOPBACK)
    assert report.delivered == [hook]
    assert len(receiver.received) == 1 and receiver.received[0].valid


# Who sees URLs -----------------------------------------------------------------------------------


async def test_webhook_urls_are_shown_whole_to_admins_only(
    client: httpx.AsyncClient, admin: Headers, reader: Headers
) -> None:
    url = "https://hooks.example.com/services/T000/B000/XXXXSECRET?token=abc"
    resp = await client.post("/v1/kpis", json=kpi_with_webhook(url), headers=admin)
    assert resp.status_code == 201, resp.text

    def addresses(found: Any) -> list[str]:
        return [s["address"] for s in found["escalation_path"]]

    for path in ("/v1/kpis/orders", "/v1/kpis"):
        as_admin = (await client.get(path, headers=admin)).json()
        as_reader = (await client.get(path, headers=reader)).json()
        if isinstance(as_admin, list):
            as_admin, as_reader = as_admin[0], as_reader[0]
        assert addresses(as_admin) == [url]
        assert addresses(as_reader) == ["hooks.example.com"]

    query = '{ kpi(key: "orders") { escalationPath { address } } }'
    for headers, shown in ((admin, url), (reader, "hooks.example.com")):
        resp = await client.post("/graphql", json={"query": query}, headers=headers)
        assert resp.json()["data"]["kpi"]["escalationPath"] == [{"address": shown}]
