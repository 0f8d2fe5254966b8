"""GitLab: its adapter, how it proves a delivery, and its row of the README."""

from __future__ import annotations

from service.ingest.sources.definition import SourceDocs, own_proof_source
from service.ingest.sources.gitlab import adapter, replay, verification
from service.ingest.sources.gitlab.options import Options

SOURCE = own_proof_source(
    adapter,
    replay,
    verification,
    options=Options,
    signs_body=False,
    docs=SourceDocs(
        sends=(
            'Deployment Hook, Pipeline Hook, Merge Request Hook (merge; a revert, "This reverts '
            'merge request !N" or "... commit <sha>", fails the change that shipped the '
            "reverted work: option `reverts_are_failures`), Push Hook, Issue Hook (issues of type "
            "incident: severity, opened, acknowledged, closed)"
        ),
        proof="`X-Gitlab-Token`",
        dedupe=(
            "`Idempotency-Key`, else `X-Gitlab-Event-UUID`; no body digest: the token is the secret"
            " itself, not a signature, so whoever can send a body under a new id holds the token "
            "anyway; each deployment, pipeline or incident step is kept once by its own key"
        ),
    ),
)
