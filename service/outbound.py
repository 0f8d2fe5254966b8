"""Requests the service sends to URLs that people configure (notification webhooks today, any
data source a later feature adds), guarded against server-side request forgery.

A URL is checked when it is written (`check_url` in service/models/urls.py: http or https, a
host, no credentials, no spaces or control characters, an IP address only in its usual form)
and again when a request
is sent (`stream`): the host is resolved, and every address it resolves to must be a public
one (`ipaddress`' is_global: not private, loopback, link-local and so the cloud metadata
address 169.254.169.254, unspecified, shared, reserved or documentation) and not multicast,
unless KPI_OUTBOUND_ALLOW names the host or a network holding the address. The request then
goes to the address that was checked, with the URL's host in the Host header and in TLS (SNI
and certificate), so a DNS answer that changes between check and connect cannot redirect it.
Redirects are never followed. `failure_text` says what went wrong without the details
(connection errors per address and port) that would let an admin map the internal network.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from service.models.urls import IPAddress, check_url, numeric_host

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
#: (host, port) -> the addresses it resolves to; the event loop's getaddrinfo by default.
Resolver = Callable[[str, int], Awaitable[Sequence[str]]]

NOT_ALLOWED = (
    "the URL's host is a private, loopback, link-local or otherwise non-public address "
    "(name it in KPI_OUTBOUND_ALLOW to allow it)"
)


class OutboundRefused(Exception):
    """A request the guard will not send: the reason names the rule, not the network."""


@dataclass(frozen=True)
class AllowList:
    """Hosts and networks that requests may reach although they are not public
    (KPI_OUTBOUND_ALLOW: comma-separated host names, addresses and CIDR networks), and URLs
    (scheme, host, port and the start of the path) that may be reached whatever their host:
    the demo's own receiver."""

    hosts: frozenset[str] = frozenset()
    networks: tuple[IPNetwork, ...] = field(default=())
    urls: tuple[httpx.URL, ...] = field(default=())

    @classmethod
    def parse(cls, entries: Iterable[str], *, urls: Iterable[str] = ()) -> AllowList:
        """The allow-list of KPI_OUTBOUND_ALLOW's `entries`, and of the URLs under `urls`."""
        prefixes = tuple(check_url(url).url for url in urls)
        hosts: set[str] = set()
        networks: list[IPNetwork] = []
        for raw in entries:
            entry = raw.strip().lower().rstrip(".")
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
            except ValueError:
                hosts.add(entry)
        return cls(frozenset(hosts), tuple(networks), prefixes)

    def permits(self, host: str, address: IPAddress) -> bool:
        return host in self.hosts or any(address in net for net in self.networks)

    def permits_url(self, url: httpx.URL) -> bool:
        """Whether `url` lies under one of the allowed URLs: the same scheme, host and port,
        and a path that is the allowed one or below it."""
        if ".." in url.path.split("/"):
            return False  # a path that climbs out of the allowed one
        return any(
            (url.scheme, url.host, url.port) == (allowed.scheme, allowed.host, allowed.port)
            and (url.path == allowed.path or url.path.startswith(allowed.path.rstrip("/") + "/"))
            for allowed in self.urls
        )


def _blocked(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return not address.is_global or address.is_multicast


def refusal_without_lookup(url: str, allow: AllowList) -> str | None:
    """Why a request to `url` would be refused, as far as can be told without resolving its
    host (a literal address or a localhost name); None when nothing says so."""
    try:
        target = check_url(url)
    except ValueError as exc:
        return f"the URL {exc}"
    address = numeric_host(target.host)
    if address is None and (target.host == "localhost" or target.host.endswith(".localhost")):
        address = ipaddress.IPv4Address("127.0.0.1")
    if allow.permits_url(target.url):
        return None
    if address is not None and _blocked(address) and not allow.permits(target.host, address):
        return NOT_ALLOWED
    return None


async def _getaddrinfo(host: str, port: int) -> Sequence[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


async def resolve(url: str, allow: AllowList, resolver: Resolver | None = None) -> IPAddress:
    """The address a request to `url` may go to, or OutboundRefused. Every address the host
    resolves to is checked, so a name that also points inward is refused whole."""
    try:
        target = check_url(url)
    except ValueError as exc:
        raise OutboundRefused(f"the URL {exc}") from exc
    numeric = numeric_host(target.host)
    if numeric is not None:
        addresses: list[IPAddress] = [numeric]
    else:
        try:
            found = await (resolver or _getaddrinfo)(target.host, target.port)
        except (OSError, UnicodeError) as exc:
            raise OutboundRefused("the URL's host name does not resolve") from exc
        addresses = [ipaddress.ip_address(a.split("%", 1)[0]) for a in found]
    if not addresses:
        raise OutboundRefused("the URL's host name does not resolve")
    url_allowed = allow.permits_url(target.url)
    for address in addresses:
        if _blocked(address) and not (url_allowed or allow.permits(target.host, address)):
            raise OutboundRefused(NOT_ALLOWED)
    return addresses[0]


@contextlib.asynccontextmanager
async def stream(
    http: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    allow: AllowList,
    timeout: float,
    content: bytes | None = None,
    headers: dict[str, str] | None = None,
    resolver: Resolver | None = None,
) -> AsyncIterator[httpx.Response]:
    """Sends one request to `url` through the guard and yields the response, its body not yet
    read. Raises OutboundRefused, or httpx's errors when the connection fails."""
    address = await resolve(url, allow, resolver)
    target = check_url(url)
    pinned = target.url.copy_with(host=str(address))
    sent_headers = {**(headers or {}), "host": target.url.netloc.decode("ascii")}
    # A connection is opened per request (no keep-alive): a pooled connection is keyed by the
    # address alone, and must not carry a request for another host it was not verified for.
    sent_headers["connection"] = "close"
    extensions: dict[str, Any] = {}
    if target.url.scheme == "https":
        extensions["sni_hostname"] = target.host
    request = http.build_request(
        method, pinned, content=content, headers=sent_headers, timeout=timeout,
        extensions=extensions,
    )  # fmt: skip
    response = await http.send(request, stream=True, follow_redirects=False)
    try:
        yield response
    finally:
        await response.aclose()


def failure_text(exc: BaseException, timeout: float) -> str:
    """What an attempt's record says went wrong: the rule that refused it, a timeout, or that
    no connection could be made; never the address, port or system error behind it."""
    if isinstance(exc, OutboundRefused):
        return f"not sent: {exc}"
    if isinstance(exc, TimeoutError | httpx.TimeoutException):
        return f"no answer within {timeout:g} s"
    return "no answer: the connection could not be made or was lost"
