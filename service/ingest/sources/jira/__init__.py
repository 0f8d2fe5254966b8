"""Jira: its adapter and its row of the README (it signs nothing)."""

from __future__ import annotations

from service.ingest.sources.definition import shared_secret_source
from service.ingest.sources.jira import adapter, replay
from service.ingest.sources.jira.options import Options

SOURCE = shared_secret_source(
    adapter,
    replay,
    options=Options,
    sends=(
        "issue created / updated (changelog: resolved, reopened, priority) for the issue types "
        'listed in `incident_issue_types`; Jira Service Management incidents ("[System] '
        'Incident", P1-P5 priorities, the Affected services field named by the '
        "`affected_services_field` option)"
    ),
    dedupe=(
        "issue + event + timestamp, read from the body; no body digest (nothing is signed, and "
        "the key already comes from the body)"
    ),
)
