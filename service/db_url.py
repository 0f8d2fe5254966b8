"""What the service reads from a Postgres URL itself (asyncpg reads the rest): the hosts it
names, one or several for failover (postgresql://h1:5432,h2:5432/db), and the session
attribute a host must have to be chosen (`target_session_attrs`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

#: What a URL naming several hosts asks of them when it says nothing itself: the host that
#: accepts writes, so that after a failover new connections find the promoted standby and
#: never settle on a standby (whose writes would fail) or on no host in particular.
WRITABLE = "read-write"
#: What a URL of several read replicas asks of its hosts: one in recovery, a standby.
STANDBY = "standby"
#: The libpq environment variable asyncpg also reads for it.
ENV_TARGET_SESSION_ATTRS = "PGTARGETSESSIONATTRS"


@dataclass(frozen=True)
class Host:
    """One host of a URL, with its port when the URL gives one."""

    host: str
    port: int | None

    def __str__(self) -> str:
        name = f"[{self.host}]" if ":" in self.host else self.host
        return name if self.port is None else f"{name}:{self.port}"


def _split_host(item: str) -> Host:
    if item.startswith("["):  # [IPv6]:port
        address, _, rest = item[1:].partition("]")
        port = rest.removeprefix(":")
        return Host(address, int(port) if port else None)
    name, colon, port = item.rpartition(":")
    if not colon:
        return Host(unquote(item), None)
    return Host(unquote(name), int(port) if port else None)


def hosts(url: str) -> list[Host]:
    """The hosts a URL names, in the order they are tried: those of its authority
    (user:password@h1:p1,h2:p2), else those of its `host` query parameter (comma-separated,
    with `port` the same way); none for a URL that leaves the host to the environment."""
    parts = urlsplit(url)
    authority = parts.netloc.rpartition("@")[2]
    if authority:
        return [_split_host(item) for item in authority.split(",") if item]
    query = parse_qs(parts.query)
    names = [n for value in query.get("host", []) for n in value.split(",") if n]
    ports = [p for value in query.get("port", []) for p in value.split(",")]
    if len(ports) == 1:
        ports *= len(names)
    return [
        Host(name, int(ports[i]) if i < len(ports) and ports[i] else None)
        for i, name in enumerate(names)
    ]


def target_session_attrs(
    url: str, environ: Mapping[str, str], wanted: str = WRITABLE
) -> str | None:
    """What asyncpg is to be told to ask of the hosts: None (asyncpg reads the URL and the
    environment itself) unless the URL names several hosts and neither it nor
    PGTARGETSESSIONATTRS says which, when it is `wanted` (WRITABLE, or STANDBY for replicas)."""
    if len(hosts(url)) < 2 or environ.get(ENV_TARGET_SESSION_ATTRS):
        return None
    if "target_session_attrs" in parse_qs(urlsplit(url).query):
        return None
    return wanted
