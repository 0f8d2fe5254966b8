"""The request each subcommand sends, from its arguments and the CI run's defaults."""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib

from kpi_client.api import incidents, observations
from kpi_client.models import ChangeIn, IncidentIn, IngestResult, ObservationIn
from kpi_client.models.incidents import Change, Incident
from kpi_client.operation import Operation, validated
from kpi_client.reporter.ci import CiRun

#: What pipelines call a result -> the service's change status.
CHANGE_STATUSES = {
    "in_progress": "in_progress",
    "in-progress": "in_progress",
    "running": "in_progress",
    "started": "in_progress",
    "pending": "in_progress",
    "success": "success",
    "succeeded": "success",
    "successful": "success",
    "passed": "success",
    "failed": "failed",
    "failure": "failed",
    "error": "failed",
    "unstable": "failed",
    "rolled_back": "rolled_back",
    "rolled-back": "rolled_back",
    "rollback": "rolled_back",
    "canceled": "canceled",
    "cancelled": "canceled",
    "aborted": "canceled",
    "skipped": "canceled",
    "not_built": "canceled",
}

MAX_EXTERNAL_ID = 200


class UsageError(Exception):
    """Arguments that cannot make a request (exit 2)."""


def change_status(text: str) -> str:
    """The service's status for a pipeline's word (GitHub `job.status`, GitLab CI_JOB_STATUS,
    Jenkins `currentBuild.currentResult` all work, in any case)."""
    found = CHANGE_STATUSES.get(text.strip().lower())
    if found is None:
        known = "in_progress, success, failed, rolled_back, canceled"
        raise argparse.ArgumentTypeError(f"unknown status {text!r} (use {known})")
    return found


def bounded_id(text: str) -> str:
    """`text` if it fits the service's 200 characters, else a prefix and a hash of the rest."""
    if len(text) <= MAX_EXTERNAL_ID:
        return text
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    return f"{text[: MAX_EXTERNAL_ID - 17]}~{digest}"


def _external_id(args: argparse.Namespace, ci: CiRun, *parts: str | None) -> str:
    if args.external_id:
        return str(args.external_id)
    if ci.run_key is None:
        raise UsageError(
            "give --external-id: no CI run detected to derive a stable one from "
            "(GitHub Actions, GitLab CI and Jenkins are recognised)"
        )
    return bounded_id(":".join([ci.run_key, *(p or "-" for p in parts)]))


def change(args: argparse.Namespace, ci: CiRun, now: dt.datetime) -> Operation[Change]:
    """A change. Started defaults to the CI's start time, else (in progress) now; finished to
    now once the status is final. The external id defaults to the run, service and env."""
    status: str = args.status
    environment = args.env or ci.environment
    commit = args.commit or ci.commit
    commit_time = args.commit_time or ci.commit_time
    started = args.started or ci.started or (now if status == "in_progress" else None)
    finished = args.finished or (None if status == "in_progress" else now)
    fields: dict[str, object] = {
        "source": args.source,
        "external_id": _external_id(args, ci, args.service, environment),
        "service": args.service,
        "environment": environment,
        "kind": args.kind,
        "status": status,
        "started_at": started,
        "finished_at": finished,
        "commit_sha": commit,
        "title": args.title or ci.title,
        "url": args.link or ci.run_url,
    }
    if commit and commit_time:
        fields["commits"] = [{"sha": commit, "committed_at": commit_time}]
    body = validated(ChangeIn, {k: v for k, v in fields.items() if v is not None}, "change")
    return incidents.upsert_change(body)


def incident(args: argparse.Namespace, ci: CiRun, now: dt.datetime) -> Operation[Incident]:
    """An incident. The external id defaults to the run and service, so a later step of the
    same run (acknowledged, resolved) updates it."""
    fields: dict[str, object] = {
        "source": args.source,
        "external_id": _external_id(args, ci, args.service),
        "service": args.service,
        "status": args.status,
        "severity": args.severity,
        "priority": args.priority,
        "title": args.title,
        "url": args.link or ci.run_url,
        "started_at": args.started,
        "detected_at": args.detected,
        "acknowledged_at": args.acknowledged,
        "resolved_at": args.resolved,
        "users_affected": args.users_affected,
        "cost_estimate": args.cost_estimate,
        "problem_key": args.problem_key,
        "caused_by": args.caused_by,
    }
    body = validated(IncidentIn, {k: v for k, v in fields.items() if v is not None}, "incident")
    return incidents.upsert_incident(body)


def observation(args: argparse.Namespace, ci: CiRun, now: dt.datetime) -> Operation[IngestResult]:
    """One observation point, at --ts or now; its source defaults to the CI's name."""
    dimensions = dict(_dimension(d) for d in args.dimension or [])
    fields: dict[str, object] = {
        "kpi": args.kpi,
        "service": args.service,
        "ts": args.ts or now,
        "value": args.value,
        "dimensions": dimensions or None,
        "source": args.source or ci.label,
    }
    point = validated(ObservationIn, {k: v for k, v in fields.items() if v is not None}, "point")
    return observations.ingest_observations([point])


def _dimension(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise UsageError(f"--dimension takes NAME=VALUE, not {text!r}")
    return name, value
