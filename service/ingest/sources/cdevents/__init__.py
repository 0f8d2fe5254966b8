"""CDEvents over CloudEvents: the adapter, the spec's schemas, and its row of the README (it
signs nothing)."""

from __future__ import annotations

from service.ingest.sources.cdevents import adapter, replay
from service.ingest.sources.definition import shared_secret_source

SOURCE = shared_secret_source(
    adapter,
    replay,
    sends=(
        "CloudEvents (binary, structured or batch mode) carrying CDEvents of spec 0.4.1, 0.5.1 "
        "or 0.6.0-draft, each checked against its type's JSON Schema: `service.deployed` / "
        "`.upgraded` (deploys), `.rolledback` (a rollback counted against the last successful "
        "production deploy of the service in that environment, inferred), "
        "`pipelinerun.finished` with an outcome, `incident.detected` / `.reported` / "
        "`.resolved`; other types are kept as unmapped"
    ),
    dedupe=(
        "CloudEvent `source` + `id` (a batch: its events' identities); an event sent again in "
        "another batch changes nothing"
    ),
)
