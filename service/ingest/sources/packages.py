"""The source packages of this folder, in the order the README documents them: written by
`kpi export` from the folders (a new package goes last), checked by `kpi export --check`.
"""

from __future__ import annotations

from service.ingest.sources import (
    alertmanager,
    argocd,
    cdevents,
    github,
    gitlab,
    incidentio,
    jira,
    opsgenie,
    pagerduty,
    servicenow,
)
from service.ingest.sources.definition import WebhookSource

PACKAGED_SOURCES: tuple[WebhookSource, ...] = (
    github.SOURCE,
    gitlab.SOURCE,
    pagerduty.SOURCE,
    opsgenie.SOURCE,
    alertmanager.SOURCE,
    jira.SOURCE,
    incidentio.SOURCE,
    servicenow.SOURCE,
    cdevents.SOURCE,
    argocd.SOURCE,
)
