"""GitHub: its adapter, how it proves a delivery, and its row of the README."""

from __future__ import annotations

from service.ingest.sources.definition import SourceDocs, own_proof_source
from service.ingest.sources.github import adapter, replay, verification
from service.ingest.sources.github.options import Options

SOURCE = own_proof_source(
    adapter,
    replay,
    verification,
    options=Options,
    signs_body=True,
    docs=SourceDocs(
        sends=(
            "`deployment`, `deployment_status`, `workflow_run` (completed), `push` and merged "
            '`pull_request` (commit times; a revert, "Reverts owner/repo#N" or "This reverts '
            'commit <sha>", fails the change that shipped the reverted work: option '
            "`reverts_are_failures`)"
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
