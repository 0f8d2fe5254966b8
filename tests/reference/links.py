"""Which change caused which incident: explicit first, else inferred.

Explicit: the incident names a change by its external id or by the commit it deployed. Else
inferred: the last successful production change of the incident's service that finished in
the 240 minutes up to its impact start (`started - 240 min < finished <= started`). Links are
a function of the final records alone, so they cannot depend on which arrived first.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from tests.reference.history import Change, Incident
from tests.reference.timeline import fold_change, fold_incident

INFER_WINDOW = dt.timedelta(minutes=240)


@dataclass(frozen=True)
class Link:
    change: str  # the change's external id
    kind: str  # explicit, inferred


class Ambiguous(ValueError):
    """The definitions do not say which change is meant (histories must avoid this)."""


def explicit_cause(ref: str, changes: Sequence[Change]) -> str | None:
    by_id = [c.external_id for c in changes if c.external_id == ref]
    if by_id:
        return by_id[0]
    by_sha = [c.external_id for c in changes if c.commit_sha and c.commit_sha == ref.lower()]
    if len(by_sha) > 1:
        raise Ambiguous(f"{ref!r} names the commit of {len(by_sha)} changes")
    return by_sha[0] if by_sha else None


def inferred_cause(incident: Incident, changes: Sequence[Change]) -> str | None:
    started = fold_incident(incident).started_at
    candidates = []
    for change in changes:
        rec = fold_change(change)
        if (
            change.service == incident.service
            and rec.is_production
            and rec.status == "success"
            and rec.finished_at is not None
            and started - INFER_WINDOW < rec.finished_at <= started
        ):
            candidates.append((rec.finished_at, change.external_id))
    if not candidates:
        return None
    candidates.sort()
    if len(candidates) > 1 and candidates[-1][0] == candidates[-2][0]:
        raise Ambiguous(f"two changes finished last before {incident.external_id!r}")
    return candidates[-1][1]


def links(incidents: Sequence[Incident], changes: Sequence[Change]) -> dict[str, Link]:
    """Incident external id -> its link, for the incidents that have one."""
    found: dict[str, Link] = {}
    for incident in incidents:
        if incident.caused_by is not None:
            cause = explicit_cause(incident.caused_by, changes)
            if cause is None:
                raise Ambiguous(
                    f"{incident.external_id!r} names {incident.caused_by!r}, which is no change"
                )
            found[incident.external_id] = Link(cause, "explicit")
            continue
        inferred = inferred_cause(incident, changes)
        if inferred is not None:
            found[incident.external_id] = Link(inferred, "inferred")
    return found
