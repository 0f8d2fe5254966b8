"""What the CI system running the reporter says about the run, used as defaults.

GitHub Actions, GitLab CI and Jenkins are recognised by GITHUB_ACTIONS, GITLAB_CI and
JENKINS_URL. `run_key` is the same for every step of one pipeline run (and changes with a
re-run attempt on GitHub), so reporting the same change twice in a run updates it.

Only GitLab says when the pipeline started (CI_PIPELINE_CREATED_AT, else CI_JOB_STARTED_AT)
and when the commit was made (CI_COMMIT_TIMESTAMP). GitHub Actions and Jenkins have no such
variables: pass --started (and --commit-time) yourself, e.g. in Jenkins
`--started ${currentBuild.startTimeInMillis}`.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Mapping
from dataclasses import dataclass

from kpi_client.reporter.times import parse_instant

CI_NAMES = ("github", "gitlab", "jenkins", "none")


@dataclass(frozen=True)
class CiRun:
    name: str
    label: str | None = None
    run_key: str | None = None
    run_url: str | None = None
    commit: str | None = None
    commit_time: dt.datetime | None = None
    started: dt.datetime | None = None
    environment: str | None = None
    title: str | None = None


def detect(environ: Mapping[str, str]) -> str:
    if environ.get("GITHUB_ACTIONS") == "true":
        return "github"
    if environ.get("GITLAB_CI"):
        return "gitlab"
    if environ.get("JENKINS_URL"):
        return "jenkins"
    return "none"


def _instant(environ: Mapping[str, str], *names: str) -> dt.datetime | None:
    for name in names:
        text = environ.get(name)
        if not text:
            continue
        try:
            return parse_instant(text)
        except ValueError as exc:
            print(f"kpi-report: warning: ignoring {name}: {exc}", file=sys.stderr)
    return None


def _github(env: Mapping[str, str]) -> CiRun:
    repo, run_id = env.get("GITHUB_REPOSITORY"), env.get("GITHUB_RUN_ID")
    server = env.get("GITHUB_SERVER_URL", "https://github.com")
    attempt = env.get("GITHUB_RUN_ATTEMPT") or "1"
    return CiRun(
        name="github",
        label="github-actions",
        run_key=f"github:{repo}:{run_id}:{attempt}" if repo and run_id else None,
        run_url=f"{server}/{repo}/actions/runs/{run_id}" if repo and run_id else None,
        commit=env.get("GITHUB_SHA") or None,
        title=env.get("GITHUB_WORKFLOW") or None,
    )


def _gitlab(env: Mapping[str, str]) -> CiRun:
    pipeline, project = env.get("CI_PIPELINE_ID"), env.get("CI_PROJECT_PATH")
    key = None
    if pipeline:
        key = f"gitlab:{project}:{pipeline}" if project else f"gitlab:{pipeline}"
    return CiRun(
        name="gitlab",
        label="gitlab-ci",
        run_key=key,
        run_url=env.get("CI_PIPELINE_URL") or env.get("CI_JOB_URL") or None,
        commit=env.get("CI_COMMIT_SHA") or None,
        commit_time=_instant(env, "CI_COMMIT_TIMESTAMP"),
        started=_instant(env, "CI_PIPELINE_CREATED_AT", "CI_JOB_STARTED_AT"),
        environment=env.get("CI_ENVIRONMENT_NAME") or None,
        title=env.get("CI_COMMIT_TITLE") or None,
    )


def _jenkins(env: Mapping[str, str]) -> CiRun:
    tag, job, number = env.get("BUILD_TAG"), env.get("JOB_NAME"), env.get("BUILD_NUMBER")
    key = f"jenkins:{tag}" if tag else (f"jenkins:{job}:{number}" if job and number else None)
    return CiRun(
        name="jenkins",
        label="jenkins",
        run_key=key,
        run_url=env.get("BUILD_URL") or None,
        commit=env.get("GIT_COMMIT") or None,
        title=f"{job} #{number}" if job and number else None,
    )


def ci_run(name: str, environ: Mapping[str, str]) -> CiRun:
    """The run's defaults; `name` is github, gitlab, jenkins, none or auto (detect)."""
    chosen = detect(environ) if name == "auto" else name
    if chosen == "github":
        return _github(environ)
    if chosen == "gitlab":
        return _gitlab(environ)
    if chosen == "jenkins":
        return _jenkins(environ)
    return CiRun(name="none")
