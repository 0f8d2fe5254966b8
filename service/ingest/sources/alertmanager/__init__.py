"""Prometheus Alertmanager: its adapter and its row of the README; it signs nothing, and proves a
delivery with the shared secret (bearer, basic auth or ?token=)."""

from __future__ import annotations

from service.ingest.proofs import SHARED_SECRET_SCHEMES, shared_secret
from service.ingest.sources.alertmanager import adapter, replay
from service.ingest.sources.definition import SourceDocs, WebhookSource

SOURCE = WebhookSource(
    kind=adapter.KIND,
    adapter=adapter,
    replay=replay,
    verify=shared_secret,
    secret_headers=frozenset({"authorization"}),
    signs_body=False,
    docs=SourceDocs(
        sends="v4 groups, one incident per firing episode (alert fingerprint + `startsAt`)",
        proof="bearer, basic auth or `?token=`",
        dedupe=(
            "none, and no body digest: the same body sent again means something again (still firing"
            " on `repeat_interval`; a resolution retracted), so every notification is applied, each"
            " step kept once (see below)"
        ),
    ),
    security_schemes=SHARED_SECRET_SCHEMES,
)
