"""PagerDuty: its adapter, how it proves a delivery, and its row of the README."""

from __future__ import annotations

from service.ingest.sources.definition import SourceDocs, own_proof_source
from service.ingest.sources.pagerduty import adapter, replay, verification

SOURCE = own_proof_source(
    adapter,
    replay,
    verification,
    signs_body=True,
    docs=SourceDocs(
        sends=(
            "webhooks v3 (`incident.*`) and v2 (`messages[]`); the status each event states is "
            "followed"
        ),
        proof="`X-PagerDuty-Signature` HMAC of the body (any of several `v1=` during rotation)",
        dedupe=(
            "`X-Webhook-Id` (else the event id), and inside the signed body the v3 event id (v2: "
            "the message ids) and the body's SHA-256: an event sent again under a fresh "
            "`X-Webhook-Id` is a duplicate. The event time PagerDuty signs must be within "
            "`KPI_WEBHOOK_EVENT_TIME_TOLERANCE_SECONDS` of the arrival"
        ),
    ),
)
