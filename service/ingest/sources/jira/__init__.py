"""Jira: its adapter and its row of the README; it signs nothing, and proves a
delivery with the shared secret (bearer, basic auth or ?token=)."""

from __future__ import annotations

from service.ingest.proofs import SHARED_SECRET_SCHEMES, shared_secret
from service.ingest.sources.definition import SourceDocs, WebhookSource
from service.ingest.sources.jira import adapter, replay

SOURCE = WebhookSource(
    kind=adapter.KIND,
    adapter=adapter,
    replay=replay,
    verify=shared_secret,
    secret_headers=frozenset({"authorization"}),
    signs_body=False,
    docs=SourceDocs(
        sends=(
            "issue created / updated (changelog: resolved, reopened, priority) for the issue types "
            "listed in `incident_issue_types`"
        ),
        proof="bearer, basic auth or `?token=`",
        dedupe=(
            "issue + event + timestamp, read from the body; no body digest (nothing is signed, and "
            "the key already comes from the body)"
        ),
    ),
    security_schemes=SHARED_SECRET_SCHEMES,
)
