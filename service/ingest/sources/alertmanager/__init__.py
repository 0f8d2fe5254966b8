"""Prometheus Alertmanager: its adapter and its row of the README (it signs nothing)."""

from __future__ import annotations

from service.ingest.sources.alertmanager import adapter, replay
from service.ingest.sources.definition import shared_secret_source

SOURCE = shared_secret_source(
    adapter,
    replay,
    sends="v4 groups, one incident per firing episode (alert fingerprint + `startsAt`)",
    dedupe=(
        "none, and no body digest: the same body sent again means something again (still firing"
        " on `repeat_interval`; a resolution retracted), so every notification is applied, each"
        " step kept once (see below)"
    ),
)
