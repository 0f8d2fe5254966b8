"""kpi-report's main: build the request, print it (--dry-run) or send it, and exit with a
code a pipeline can rely on (see exit_codes)."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import httpx
from pydantic import BaseModel

from kpi_client.config import TOKEN_ENV, URL_ENV
from kpi_client.errors import (
    ApiError,
    ConfigurationError,
    RateLimited,
    RequestInvalid,
    ServerError,
    TransportError,
    UnexpectedAnswer,
)
from kpi_client.operation import Operation
from kpi_client.reporter import bodies, dry_run, exit_codes, gate
from kpi_client.reporter.arguments import parser
from kpi_client.reporter.ci import CiRun, ci_run
from kpi_client.retry import RetryPolicy
from kpi_client.sync_client import Client

Builder = Callable[[argparse.Namespace, CiRun, dt.datetime], Operation[Any]]


def _fail(message: str, code: int) -> int:
    print(f"kpi-report: {message}", file=sys.stderr)
    return code


def _refused(error: ApiError) -> str:
    lines = [f"rejected by the service: {error}"]
    lines += [f"  {e.field or e.pointer}: {e.detail}" for e in error.errors]
    return "\n".join(lines)


def _send(client: Client, operation: Operation[Any], fail_open: bool) -> int:
    try:
        result = client.execute(operation)
    except (TransportError, ServerError, RateLimited) as exc:
        if fail_open:
            print(
                f"kpi-report: warning: KPI service unavailable, nothing recorded "
                f"(--fail-open): {exc}",
                file=sys.stderr,
            )
            return exit_codes.SENT
        return _fail(f"KPI service unavailable: {exc}", exit_codes.UNAVAILABLE)
    except ApiError as exc:
        return _fail(_refused(exc), exit_codes.REJECTED)
    except UnexpectedAnswer as exc:
        return _fail(f"{exc} (is KPI_URL the service?)", exit_codes.REJECTED)
    if isinstance(result, BaseModel):
        print(result.model_dump_json())
    return exit_codes.SENT


def main(
    argv: Sequence[str] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    transport: httpx.BaseTransport | None = None,
) -> int:
    """Runs the command and gives its exit code (see exit_codes)."""
    env = os.environ if environ is None else environ
    try:
        args = parser().parse_args(argv)
    except SystemExit as exc:  # --help, or a usage error already printed
        return exc.code if isinstance(exc.code, int) else exit_codes.USAGE
    url = args.kpi_url or env.get(URL_ENV)
    token = env.get(TOKEN_ENV)
    if not url:
        return _fail(f"no service URL: set {URL_ENV} or pass --kpi-url", exit_codes.USAGE)
    if args.max_attempts < 1:
        return _fail("--max-attempts must be at least 1", exit_codes.USAGE)
    build: Builder = args.build
    try:
        operation = build(args, ci_run(args.ci, env), dt.datetime.now(dt.UTC))
        client = Client(
            url,
            token,
            timeout=args.timeout,
            transport=transport,
            retry=RetryPolicy(max_attempts=args.max_attempts),
        )
    except (bodies.UsageError, RequestInvalid, ConfigurationError) as exc:
        return _fail(str(exc), exit_codes.USAGE)
    with client:
        if args.dry_run:
            print(dry_run.describe(client.build_request(operation)))
            return exit_codes.SENT
        if not token:
            return _fail(f"no token: set {TOKEN_ENV} (scope ingest)", exit_codes.USAGE)
        if getattr(args, "gate", False):
            return gate.run(client, args, ci_run(args.ci, env))
        return _send(client, operation, args.fail_open)
