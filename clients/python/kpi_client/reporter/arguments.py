"""The kpi-report command line: subcommands, their options and help."""

from __future__ import annotations

import argparse
from typing import Any

from kpi_client.config import URL_ENV
from kpi_client.reporter import bodies, exit_codes, gate
from kpi_client.reporter.ci import CI_NAMES
from kpi_client.reporter.times import instant_argument

DESCRIPTION = """\
Report a change (deployment), an observation or an incident to the KPI service from a
CI/CD pipeline, or ask its deploy gate whether a change may go out.

The service is KPI_URL (or --kpi-url); the token is KPI_TOKEN (scope ingest), read from the
environment only so that it never shows in a command line or a log. Run ids, commit, links
and, on GitLab, start and commit times default to the CI's own variables (GitHub Actions,
GitLab CI, Jenkins)."""

EXAMPLE = """\
example:
  kpi-report change --service checkout --env production --status success \\
      --commit "$SHA" --started 2026-11-02T09:00:00Z --finished 2026-11-02T09:04:10Z"""

TIMES = """\
TIME is ISO 8601 with a zone offset (2026-11-02T09:00:00Z, ...+01:00) or Unix epoch seconds
or milliseconds (Jenkins: ${currentBuild.startTimeInMillis})."""

CHANGE = """\
Create or update a change by (source, external id). The external id defaults to the CI run
(with the re-run attempt on GitHub), the service and the environment, so reporting again in
the same run (in_progress, then success) updates the change instead of adding one.
Started defaults to GitLab's CI_PIPELINE_CREATED_AT (else CI_JOB_STARTED_AT); GitHub Actions
and Jenkins have no start-time variable, so there it is now for in_progress and left to an
earlier report (or --started) otherwise. Finished defaults to now once the status is final."""

INCIDENT = """\
Create or update an incident by (source, external id). The external id defaults to the CI
run and the service, so a later step of the run (resolved) updates the same incident."""

GATE = """\
Ask the service's deploy gate whether a production change may go out now: exit 0 on allow,
5 on freeze (the error budget over the policy's window is spent). Hotfixes and rollbacks pass
a freeze (as the service's error-budget policy lists); --override-reason passes anyway and
is recorded on the service as a change annotation with the gate's numbers. The token needs
the read scope, and ingest to record an override."""

OBSERVATION = "Send one point of an observed KPI, at --ts or now."
SOURCE_HELP = "a source of kind api, or one an admin opened to the API (default api)"


def _common(parser: argparse.ArgumentParser) -> None:
    sending = parser.add_argument_group("sending")
    sending.add_argument("--kpi-url", metavar="URL", help=f"the service (default ${URL_ENV})")
    sending.add_argument(
        "--timeout", type=float, default=10.0, metavar="SECONDS", help="per request (default 10)"
    )
    sending.add_argument(
        "--max-attempts",
        type=int,
        default=4,
        metavar="N",
        help="sends in all, with jittered backoff between them (default 4)",
    )
    sending.add_argument(
        "--dry-run", action="store_true", help="print the request (token hidden), send nothing"
    )
    sending.add_argument(
        "--fail-open",
        action="store_true",
        help="when the service is unavailable, warn and exit 0 instead of 4, so a KPI "
        "outage does not fail the pipeline",
    )
    sending.add_argument(
        "--ci",
        choices=("auto", *CI_NAMES),
        default="auto",
        help="whose variables give the defaults (default: detected)",
    )


def _subcommand(commands: Any, name: str, summary: str, description: str) -> Any:
    sub = commands.add_parser(
        name,
        help=summary,
        description=description,
        epilog=f"{TIMES}\n\n{exit_codes.HELP}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _common(sub)
    return sub


def _change(commands: Any) -> None:
    p = _subcommand(commands, "change", "a deployment or other change", CHANGE)
    p.add_argument("--service", required=True, help="business service slug")
    p.add_argument(
        "--status",
        required=True,
        type=bodies.change_status,
        help="in_progress, success, failed, rolled_back or canceled; the words CI systems "
        "use also work (failure, cancelled, aborted, running, SUCCESS ...)",
    )
    p.add_argument(
        "--env", "--environment", dest="env", help="e.g. production (GitLab: CI_ENVIRONMENT_NAME)"
    )
    p.add_argument(
        "--kind", default="deploy", choices=("deploy", "config", "patch", "rollback", "hotfix")
    )
    p.add_argument("--commit", help="deployed sha (default GITHUB_SHA, CI_COMMIT_SHA, GIT_COMMIT)")
    p.add_argument(
        "--commit-time",
        type=instant_argument,
        metavar="TIME",
        help="when the commit was made, for lead time (GitLab: CI_COMMIT_TIMESTAMP)",
    )
    p.add_argument("--started", type=instant_argument, metavar="TIME")
    p.add_argument("--finished", type=instant_argument, metavar="TIME")
    p.add_argument("--external-id", help="default: from the CI run (required outside CI)")
    p.add_argument("--source", default="api", help=SOURCE_HELP)
    p.add_argument("--title", help="default: workflow name, commit title or job name")
    p.add_argument("--link", metavar="URL", help="default: the CI run's URL")
    p.set_defaults(build=bodies.change)


def _incident(commands: Any) -> None:
    p = _subcommand(commands, "incident", "an incident (a failed smoke test ...)", INCIDENT)
    p.add_argument("--service", required=True, help="business service slug")
    p.add_argument("--status", default="open", choices=("open", "acknowledged", "resolved"))
    p.add_argument("--severity", choices=("sev1", "sev2", "sev3", "sev4", "sev5"))
    p.add_argument("--priority")
    p.add_argument("--title")
    p.add_argument("--started", type=instant_argument, metavar="TIME", help="impact start")
    p.add_argument("--detected", type=instant_argument, metavar="TIME")
    p.add_argument("--acknowledged", type=instant_argument, metavar="TIME")
    p.add_argument("--resolved", type=instant_argument, metavar="TIME")
    p.add_argument("--users-affected", type=int, metavar="N")
    p.add_argument("--cost-estimate", type=float, metavar="AMOUNT")
    p.add_argument("--problem-key")
    p.add_argument("--caused-by", metavar="SHA_OR_ID", help="the change or commit to blame")
    p.add_argument("--external-id", help="default: from the CI run (required outside CI)")
    p.add_argument("--source", default="api", help=SOURCE_HELP)
    p.add_argument("--link", metavar="URL", help="default: the CI run's URL")
    p.set_defaults(build=bodies.incident)


def _observation(commands: Any) -> None:
    p = _subcommand(commands, "observation", "one KPI observation point", OBSERVATION)
    p.add_argument("--kpi", required=True, help="KPI key")
    p.add_argument("--value", required=True, type=float)
    p.add_argument("--service", help="business service slug")
    p.add_argument("--ts", type=instant_argument, metavar="TIME", help="default now")
    p.add_argument("--dimension", action="append", metavar="NAME=VALUE", help="repeatable")
    p.add_argument("--source", help="free text (default: the CI's name)")
    p.set_defaults(build=bodies.observation)


def _gate(commands: Any) -> None:
    p = _subcommand(commands, "gate", "ask the deploy gate (exit 5 on freeze)", GATE)
    p.add_argument("--service", required=True, help="business service slug")
    p.add_argument(
        "--change-type", default="deploy",
        choices=("deploy", "config", "patch", "rollback", "hotfix"),
        help="what is going out (default deploy); hotfix and rollback pass a freeze",
    )  # fmt: skip
    p.add_argument("--override-reason", metavar="TEXT", help="pass a freeze, recording why")
    p.add_argument("--reference", metavar="TEXT", help="recorded with an override (default: "
                   "the CI run's URL)")  # fmt: skip
    p.set_defaults(build=gate.request, gate=True)


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="kpi-report",
        description=DESCRIPTION,
        epilog=f"{EXAMPLE}\n\n{exit_codes.HELP}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = root.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _change(commands)
    _observation(commands)
    _incident(commands)
    _gate(commands)
    return root
