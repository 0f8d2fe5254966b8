"""incident.io: its adapter, how it proves a delivery (Standard Webhooks), and its README row."""

from __future__ import annotations

from service.ingest.sources.definition import SourceDocs, own_proof_source
from service.ingest.sources.incidentio import adapter, replay, verification
from service.ingest.sources.incidentio.options import Options

DOCS = SourceDocs(
    sends=(
        "public incident created / updated / status updated (v2); the status category each "
        "event states is followed, severity by name, the service from a custom field"
    ),
    proof=(
        "Standard Webhooks: `webhook-signature` HMAC of `webhook-id`, `webhook-timestamp` and "
        "the body, with the `whsec_` signing secret"
    ),
    dedupe=(
        "`webhook-id` (signed, so a captured body cannot come again under a fresh id); "
        "`webhook-timestamp` must be within `KPI_WEBHOOK_EVENT_TIME_TOLERANCE_SECONDS` of the "
        "arrival"
    ),
)

SOURCE = own_proof_source(
    adapter, replay, verification, docs=DOCS, signs_body=False, options=Options
)
