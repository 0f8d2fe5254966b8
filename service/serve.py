"""Run the HTTP server: uvicorn, with one or several worker processes on one TCP socket."""

from __future__ import annotations

import contextlib
import os
import socket
import tempfile
from collections.abc import Iterator

import uvicorn
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import Multiprocess

from service import logs
from service.telemetry import MULTIPROC_ENV


class _Config(uvicorn.Config):
    """uvicorn's config, binding the shared socket of its worker processes as a TCP socket.

    uvicorn creates that socket without naming the protocol; asyncio then sees proto 0 on the
    accepted connections and skips TCP_NODELAY, so Nagle holds back each response's body until
    the client's delayed ACK (about 40 ms on Linux) on a kept-alive connection. A socket created
    with IPPROTO_TCP gets TCP_NODELAY like the single-process server does.
    """

    def bind_socket(self) -> socket.socket:
        if self.uds is not None or self.fd is not None:
            return super().bind_socket()
        family = socket.AF_INET6 if self.host and ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        sock.set_inheritable(True)
        return sock


@contextlib.contextmanager
def shared_metrics_dir() -> Iterator[None]:
    """Workers share their metrics through a directory (prometheus_client's multiprocess
    mode), so that a scrape answered by any worker counts for all: an empty one made for this
    run and removed after it, unless the environment names one already."""
    if os.environ.get(MULTIPROC_ENV):
        yield
        return
    with tempfile.TemporaryDirectory(prefix="kpi-metrics-") as path:
        os.environ[MULTIPROC_ENV] = path
        try:
            yield
        finally:
            del os.environ[MULTIPROC_ENV]


def run(
    host: str, port: int, workers: int, *, log_level: str = "INFO",
    forwarded_allow_ips: str = "127.0.0.1",
) -> None:  # fmt: skip
    run_app(
        "service.app:create_app", host, port, workers, shared_metrics=True,
        log_level=log_level, forwarded_allow_ips=forwarded_allow_ips,
    )  # fmt: skip


def run_app(
    factory: str, host: str, port: int, workers: int, *, shared_metrics: bool = False,
    log_level: str = "INFO", forwarded_allow_ips: str = "127.0.0.1",
) -> None:  # fmt: skip
    """Serve the ASGI app made by `factory` ("module:function") as `kpi serve` does: the same
    loop, HTTP implementation, socket and worker processes (benchmarks serve their baselines
    with it, so that both sides run under the same server).

    Every process logs JSON lines at `log_level` (service/logs.py: uvicorn applies the
    configuration in each worker it starts). The client's address is the connection's peer,
    or the one a proxy named in `forwarded_allow_ips` gives in X-Forwarded-For (uvicorn's
    proxy headers)."""
    config = _Config(
        factory, factory=True, host=host, port=port, workers=workers,
        log_config=logs.dict_config(log_level), access_log=False, proxy_headers=True,
        forwarded_allow_ips=forwarded_allow_ips,
    )  # fmt: skip
    if workers > 1:
        metrics = shared_metrics_dir() if shared_metrics else contextlib.nullcontext()
        with metrics:
            supervisor = Multiprocess(config, sockets=[config.bind_socket()])
            supervisor.run()
        # uvicorn's supervisor stops when a worker cannot start (the database is down at
        # start-up, say) but returns as if asked to stop; exit as one worker would, so that a
        # supervisor (systemd, Kubernetes) sees the failure and starts the server again.
        if any(p.exitcode == STARTUP_FAILURE for p in supervisor.processes):
            raise SystemExit(STARTUP_FAILURE)
    else:
        uvicorn.Server(config).run()
