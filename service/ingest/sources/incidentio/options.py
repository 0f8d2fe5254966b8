"""The settings of an incident.io source (`options` when it is registered)."""

from __future__ import annotations

from pydantic import Field

from service.models.catalog import Body


class Options(Body):
    service_field_id: str | None = Field(
        default=None, max_length=100,
        description="Id of the incident.io custom field naming the affected services (a "
        "catalog or select field); its first value is the service rules' `ref`.",
    )  # fmt: skip
    service_field_name: str = Field(
        default="Affected services", min_length=1, max_length=200,
        description="Name of that custom field (case-insensitive), used when "
        "`service_field_id` is not set.",
    )  # fmt: skip
    impact_started_timestamp: str = Field(
        default="Impact started", min_length=1, max_length=200,
        description="Name of the incident timestamp holding when impact started "
        "(case-insensitive); without it, impact starts at detection.",
    )  # fmt: skip
