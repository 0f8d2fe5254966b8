"""GitHub: its adapter, how it proves a delivery, and its row of the README."""

from __future__ import annotations

from service.ingest.sources.definition import SourceDocs, own_proof_source
from service.ingest.sources.github import adapter, replay, verification

SOURCE = own_proof_source(
    adapter,
    replay,
    verification,
    signs_body=True,
    docs=SourceDocs(
        sends=(
            "`deployment`, `deployment_status`, `workflow_run` (completed), `push` and merged "
            "`pull_request` (commit times)"
        ),
        proof="`X-Hub-Signature-256` HMAC of the body",
        dedupe=(
            "`X-GitHub-Delivery` (kept on GitHub's redeliveries), and the SHA-256 of the signed "
            "body: GitHub puts no id in the body, so a body sent again under a new GUID is known by"
            " its digest. The body must have the shape of the `X-GitHub-Event` it comes with (see "
            "Security)"
        ),
    ),
)
