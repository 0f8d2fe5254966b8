"""The rules a configured outbound URL (a notification target, a data source) must meet
before it is stored: syntax only, no lookup. Whether its host may be reached is decided when a
request is sent (service/outbound.py)."""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass

import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
SCHEMES = ("http", "https")


#: Where `kpi serve --demo` serves its own notification receiver (service/web/); the demo's
#: webhook steps post below it.
DEMO_RECEIVER_PATH = "/demo/receiver"


@dataclass(frozen=True)
class Target:
    """A checked URL: its scheme, host (lower case, no trailing dot) and port."""

    url: httpx.URL
    host: str
    port: int


def numeric_host(host: str) -> IPAddress | None:
    """The address a host written as a number stands for: IPv6 in brackets, and IPv4 in any
    of the forms socket libraries accept (2130706433, 0x7f000001, 0177.0.0.1, 127.1)."""
    if ":" in host:
        try:
            return ipaddress.IPv6Address(host.split("%", 1)[0])
        except ValueError:
            return None
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


def check_url(url: str) -> Target:
    """The URL's parts, or ValueError saying which rule it breaks. Syntax only: whether its
    host may be reached is decided when a request is sent."""
    if any(ord(c) <= 0x20 or 0x7F <= ord(c) <= 0x9F for c in url):
        raise ValueError("must not contain spaces or control characters")
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise ValueError(f"is not a valid URL: {exc}") from exc
    if parsed.scheme not in SCHEMES:
        raise ValueError("must be an http:// or https:// URL")
    if parsed.userinfo:
        raise ValueError("must not carry credentials (user:password@); use the signing secret")
    host = parsed.host.lower().rstrip(".")
    if not host:
        raise ValueError("needs a host")
    port = parsed.port if parsed.port is not None else (443 if parsed.scheme == "https" else 80)
    if not 1 <= port <= 65535:
        raise ValueError("has a port outside 1-65535")
    numeric = numeric_host(host)
    if isinstance(numeric, ipaddress.IPv4Address) and str(numeric) != host:
        raise ValueError(f"must write the address {numeric} in its usual form")
    return Target(parsed, host, port)


def shown_url(url: str, *, admin: bool) -> str:
    """A configured URL as a token may see it: whole for admins, its host alone for others
    (paths and query strings often hold secrets)."""
    if admin:
        return url
    try:
        return httpx.URL(url).host or "(hidden)"
    except httpx.InvalidURL:
        return "(hidden)"


def is_demo_receiver(url: str) -> bool:
    """Whether `url` is the demo's own receiver: http on a loopback address (or localhost),
    below DEMO_RECEIVER_PATH. The demo's steps point there; it answers only while
    `kpi serve --demo` serves it, and is let through the outbound rules only then."""
    try:
        target = check_url(url)
    except ValueError:
        return False
    address = numeric_host(target.host)
    loopback = target.host == "localhost" or (address is not None and address.is_loopback)
    path = target.url.path
    return (
        target.url.scheme == "http" and loopback and ".." not in path.split("/")
        and path.startswith(DEMO_RECEIVER_PATH + "/")
    )  # fmt: skip
