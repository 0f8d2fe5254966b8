"""Jira Service Management incidents: Jira issue webhooks of JSM's incident issue type, read
with JSM's priority scheme and its "Affected services" field.

JSM's IT service projects name the type "[System] Incident" (older sites) or "Incident"; both
count when the source lists "incident" among its incident issue types. Priorities: JSM's
incident scheme ("P1 - Critical" ... "P5 - Informational", Opsgenie's levels), Jira's default
scheme (Highest ... Lowest) and the Data Center one (Blocker, Critical, Major, Minor, Trivial),
most severe first. "Affected services" is a custom field whose id differs per Jira site
(`customfield_10040` on one, `customfield_10252` on another): the source names it in its
`affected_services_field` option. Its value is a list of services, each an object with the
service's `id` and, in webhooks, its `name`; the first named service is the incident's service
reference, and every one is a label rules may match on (`affected_service:<name>`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping

from service.ingest.jsonread import Json, nonempty, peek
from service.models.enums import Severity

#: JSM sites created before 2021 label the type "[System] Incident".
_SYSTEM_PREFIX = "[system] "
#: "P1", "P2 - High", "p3: Moderate": the level is the digit.
_LEVEL = re.compile(r"p([1-5])\b", re.IGNORECASE)
_SCHEMES = (
    ("highest", "high", "medium", "low", "lowest"),
    ("blocker", "critical", "major", "minor", "trivial"),
)
_SEVERITIES = tuple(Severity)
_BY_NAME: Mapping[str, Severity] = {
    name: _SEVERITIES[rank] for scheme in _SCHEMES for rank, name in enumerate(scheme)
}


def issue_type_name(name: str) -> str:
    """The type's name without JSM's "[System] " prefix, case-folded."""
    folded = name.casefold()
    return folded.removeprefix(_SYSTEM_PREFIX)


def priority_severity(priority: str | None) -> Severity | None:
    """The severity a priority name of the three schemes stands for; None for any other."""
    if priority is None:
        return None
    level = _LEVEL.match(priority.strip())
    if level is not None:
        return _SEVERITIES[int(level.group(1)) - 1]
    return _BY_NAME.get(priority.strip().casefold())


def affected_services(fields: Json, field_id: str | None) -> list[str]:
    """The names (else ids) of the services in the Affected services field, in order."""
    if not field_id:
        return []
    value = fields.get(field_id)
    entries = value if isinstance(value, list) else [value]
    return list(dict.fromkeys(_service_names(entries)))


def _service_names(entries: list[object]) -> Iterator[str]:
    for entry in entries:
        name = nonempty(entry) or nonempty(peek(entry, "name")) or nonempty(peek(entry, "id"))
        if name is not None:
            yield name.strip()


def service_labels(services: list[str]) -> dict[str, str]:
    """A label per affected service, for service rules."""
    return {f"affected_service:{name}": "true" for name in services}
