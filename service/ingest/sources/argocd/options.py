"""The settings of an Argo CD source."""

from __future__ import annotations

from pydantic import Field

from service.models.catalog import Body


class Options(Body):
    degraded_window_minutes: int = Field(
        default=30, ge=0, le=10_080,
        description="A sync that succeeded counts as a failed change when Argo CD reports the "
        "application Degraded within this many minutes of its finish (0: never); a later "
        "Degraded is kept and shown on the change without failing it.",
    )  # fmt: skip
