"""Argo CD: its adapter, its settings and its row of the README (it signs nothing)."""

from __future__ import annotations

from service.ingest.sources.argocd import adapter, replay
from service.ingest.sources.argocd.options import Options
from service.ingest.sources.definition import shared_secret_source

SOURCE = shared_secret_source(
    adapter,
    replay,
    sends=(
        "Argo CD Notifications through the webhook template of its setup: each sync operation "
        "a change (phase Error / Failed: failed), health `Degraded` kept and shown, and a "
        "sync reported Degraded within `degraded_window_minutes` of its finish counted as failed"
    ),
    dedupe=(
        "application + revision + operation start (the change), with the phase and health "
        "reported (the delivery), read from the body"
    ),
    options=Options,
)
