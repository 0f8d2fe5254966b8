"""Pure mapping rules: the tool's service to a business service, severities, production."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from service.models.enums import Severity
from service.models.sources import ServiceRule


def match_service(
    ref: str | None,
    labels: Mapping[str, str],
    rules: Sequence[ServiceRule],
    known_slugs: Collection[str],
) -> str | None:
    """The first rule whose every `match` entry equals the event's attribute wins; without
    one, a tool service named exactly like a business service maps to it."""
    ruled = _rule_service(ref, labels, rules)
    if ruled is not None:
        return ruled
    if ref is not None and ref in known_slugs:
        return ref
    return None


def candidate_service(
    ref: str | None, labels: Mapping[str, str], rules: Sequence[ServiceRule]
) -> str | None:
    """The slug match_service gives when it names a business service that exists: the first
    matching rule's, else the tool's own name (whether either exists is for the caller)."""
    ruled = _rule_service(ref, labels, rules)
    return ruled if ruled is not None else ref


def _rule_service(
    ref: str | None, labels: Mapping[str, str], rules: Sequence[ServiceRule]
) -> str | None:
    attributes = {**labels, "ref": ref} if ref is not None else dict(labels)
    for rule in rules:
        if all(attributes.get(key) == value for key, value in rule.match.items()):
            return rule.service
    return None


def severity(
    default: Severity | None, raw: str | None, overrides: Mapping[str, Severity]
) -> Severity | None:
    """The source's map for the tool's own name first, then the adapter's default."""
    if raw is not None:
        for name, sev in overrides.items():
            if name.casefold() == raw.casefold():
                return sev
    return default


def is_production(environment: str | None, production_envs: Sequence[str]) -> bool:
    if environment is None:
        return False
    return environment.casefold() in {e.casefold() for e in production_envs}
