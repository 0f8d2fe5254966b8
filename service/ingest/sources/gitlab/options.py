"""Settings of a GitLab source of its own kind."""

from __future__ import annotations

from service.ingest.reverts import RevertOptions


class Options(RevertOptions):
    """Whether merged reverts count as failures (on by default)."""
