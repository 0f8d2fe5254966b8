"""kpi-report gate: ask the service's deploy gate whether a change may go out, and exit 0
(allow) or FROZEN (freeze) so a pipeline stops. Hotfixes and rollbacks pass a freeze as the
service's policy lists; --override-reason passes anyway and is recorded on the service as a
change annotation."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from typing import Any

from kpi_client.api import deploy_gate
from kpi_client.errors import ApiError, RateLimited, ServerError, TransportError
from kpi_client.models import DeployGate
from kpi_client.operation import Operation
from kpi_client.reporter import exit_codes
from kpi_client.reporter.ci import CiRun
from kpi_client.sync_client import Client


def request(args: argparse.Namespace, ci: CiRun, now: dt.datetime) -> Operation[Any]:
    """The gate's question (what --dry-run prints)."""
    return deploy_gate.get_deploy_gate(args.service, change_type=args.change_type)


def _numbers(gate: DeployGate) -> str:
    b = gate.budget
    return (
        f"target {b.target:g} % over {b.window}: allowed {b.allowed_downtime_minutes:.1f} min, "
        f"spent {b.spent_minutes:.1f} min, remaining {b.remaining_minutes:.1f} min "
        f"(planned downtime {b.planned_downtime_minutes:.1f} min, not counted)"
    )


def run(client: Client, args: argparse.Namespace, ci: CiRun) -> int:
    """Asks the gate (and records an override when frozen and a reason is given)."""
    try:
        gate = client.get_deploy_gate(args.service, change_type=args.change_type)
        print(f"{gate.service}: {gate.decision} ({gate.change_type}): {gate.reason}")
        print(f"  {_numbers(gate)}")
        if gate.decision == "allow":
            return exit_codes.SENT
        if not args.override_reason:
            print("kpi-report: the deploy gate is frozen", file=sys.stderr)
            return exit_codes.FROZEN
        note = client.override_deploy_gate(
            args.service,
            {"reason": args.override_reason, "change_type": args.change_type,
             "reference": args.reference or ci.run_url},
        )  # fmt: skip
        print(f"  overridden: {args.override_reason!r} (recorded as change annotation {note.id})")
        return exit_codes.SENT
    except (TransportError, ServerError, RateLimited) as exc:
        if args.fail_open:
            print(f"kpi-report: warning: KPI service unavailable, gate not asked (--fail-open): "
                  f"{exc}", file=sys.stderr)  # fmt: skip
            return exit_codes.SENT
        print(f"kpi-report: KPI service unavailable: {exc}", file=sys.stderr)
        return exit_codes.UNAVAILABLE
    except ApiError as exc:
        print(f"kpi-report: rejected by the service: {exc}", file=sys.stderr)
        return exit_codes.REJECTED
