"""Settings of a Jira source of its own kind."""

from __future__ import annotations

from pydantic import Field

from service.models.catalog import Body


class Options(Body):
    affected_services_field: str | None = Field(
        default=None,
        max_length=100,
        pattern=r"^customfield_[0-9]+$",
        description='The id of Jira Service Management\'s "Affected services" field on this '
        "Jira site (e.g. customfield_10043: Settings > Issues > Custom fields): its first "
        "service is the incident's service, and every one a label "
        "`affected_service:<name>` rules may match. Unset: the project key is the service.",
    )
