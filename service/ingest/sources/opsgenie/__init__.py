"""Opsgenie: its adapter and its row of the README; it signs nothing, and proves a
delivery with the shared secret (bearer, basic auth or ?token=)."""

from __future__ import annotations

from service.ingest.proofs import SHARED_SECRET_SCHEMES, shared_secret
from service.ingest.sources.definition import SourceDocs, WebhookSource
from service.ingest.sources.opsgenie import adapter, replay

SOURCE = WebhookSource(
    kind=adapter.KIND,
    adapter=adapter,
    replay=replay,
    verify=shared_secret,
    secret_headers=frozenset({"authorization"}),
    signs_body=False,
    docs=SourceDocs(
        sends="Create, Acknowledge, UnAcknowledge, Close, other alert actions",
        proof="bearer, basic auth or `?token=`",
        dedupe=(
            "alert id + action + request id, read from the body; no body digest (nothing is signed,"
            " and the key already comes from the body)"
        ),
    ),
    security_schemes=SHARED_SECRET_SCHEMES,
)
