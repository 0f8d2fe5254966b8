"""Opsgenie: its adapter and its row of the README (it signs nothing)."""

from __future__ import annotations

from service.ingest.sources.definition import shared_secret_source
from service.ingest.sources.opsgenie import adapter, replay

SOURCE = shared_secret_source(
    adapter,
    replay,
    sends="Create, Acknowledge, UnAcknowledge, Close, other alert actions",
    dedupe=(
        "alert id + action + request id, read from the body; no body digest (nothing is signed,"
        " and the key already comes from the body)"
    ),
)
