"""Loaded at start-up by a `kpi` process that a test runs with this folder on PYTHONPATH:
appends to the file named by KPI_TEST_NETWORK_LOG every host name looked up in DNS and every
connection to an address off this machine (loopback and Unix sockets are not noted)."""

from __future__ import annotations

import ipaddress
import os
import socket
from typing import Any

LOG = os.environ["KPI_TEST_NETWORK_LOG"]


def note(what: str) -> None:
    with open(LOG, "a", encoding="utf-8") as log:
        log.write(what + "\n")


def address(host: object) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = host.decode() if isinstance(host, bytes) else str(host)
    try:
        return ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None  # a name


real_getaddrinfo = socket.getaddrinfo


def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    if host not in (None, "", b"", "localhost") and address(host) is None:
        note(f"lookup {host}")  # a name goes to DNS
    return real_getaddrinfo(host, *args, **kwargs)


def guarded(method: Any) -> Any:
    def connect(self: socket.socket, target: Any) -> Any:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            found = address(target[0])
            if found is None or not found.is_loopback:
                note(f"connect {target}")
        return method(self, target)

    return connect


socket.getaddrinfo = getaddrinfo
socket.socket.connect = guarded(socket.socket.connect)  # type: ignore[method-assign]
socket.socket.connect_ex = guarded(socket.socket.connect_ex)  # type: ignore[method-assign]
