"""The hosts of a Postgres URL and the session attribute the service asks of them: a URL
naming several hosts gets read-write unless it or the environment says otherwise."""

from __future__ import annotations

import pytest

from service import db as dbmod
from service.db_url import STANDBY, Host, hosts, target_session_attrs
from tests.reliability.support import free_port


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://u:p@db1:5432/kpi", [Host("db1", 5432)]),
        ("postgresql://u:p%40ss@db1:5432,db2:5433/kpi?sslmode=require",
         [Host("db1", 5432), Host("db2", 5433)]),
        ("postgresql://db1,db2:6432/kpi", [Host("db1", None), Host("db2", 6432)]),
        ("postgresql://u@[::1]:5432,[fd00::2]/kpi", [Host("::1", 5432), Host("fd00::2", None)]),
        ("postgresql:///kpi?host=db1,db2&port=5432", [Host("db1", 5432), Host("db2", 5432)]),
        ("postgresql:///kpi?host=db1,db2&port=5432,5433", [Host("db1", 5432), Host("db2", 5433)]),
        ("postgresql:///kpi", []),
    ],
)  # fmt: skip
def test_hosts_are_read_in_the_order_they_are_tried(url: str, expected: list[Host]) -> None:
    assert hosts(url) == expected


def test_a_host_prints_as_it_is_written() -> None:
    assert [str(h) for h in hosts("postgresql://a:1,[::1]:2,b/x")] == ["a:1", "[::1]:2", "b"]


@pytest.mark.parametrize(
    ("url", "environ", "expected"),
    [
        # One host: asyncpg's own default (any), whatever it is.
        ("postgresql://db1/kpi", {}, None),
        # Several, saying nothing: the writable one.
        ("postgresql://db1,db2/kpi", {}, "read-write"),
        # Several, saying which: the URL's word (asyncpg reads it).
        ("postgresql://db1,db2/kpi?target_session_attrs=primary", {}, None),
        ("postgresql://db1,db2/kpi?target_session_attrs=any", {}, None),
        # Several, the environment saying which (asyncpg reads it too).
        ("postgresql://db1,db2/kpi", {"PGTARGETSESSIONATTRS": "primary"}, None),
    ],
)
def test_several_hosts_ask_for_the_writable_one_unless_told_otherwise(
    url: str, environ: dict[str, str], expected: str | None
) -> None:
    assert target_session_attrs(url, environ) == expected


def test_several_replicas_ask_for_a_standby() -> None:
    assert target_session_attrs("postgresql://r1,r2/kpi", {}, STANDBY) == "standby"
    assert target_session_attrs("postgresql://r1/kpi", {}, STANDBY) is None


async def test_a_failed_connect_names_every_host_tried_and_no_password() -> None:
    # Two ports nothing listens on: both refuse at once, asyncpg reports the last one only.
    first, second = free_port(), free_port()
    url = f"postgresql://kpi:s3cret@127.0.0.1:{first},127.0.0.1:{second}/kpi"
    with pytest.raises(dbmod.DatabaseUnavailable) as failed:
        await dbmod.connect(url, timeout=5)
    message = str(failed.value)
    assert message.startswith("cannot connect to the database: ConnectionRefusedError")
    assert message.endswith(f"(hosts tried: 127.0.0.1:{first}, 127.0.0.1:{second})")
    assert "s3cret" not in message
