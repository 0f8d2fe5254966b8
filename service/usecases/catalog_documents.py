"""A file for `kpi apply` of several YAML documents: the service's own catalog sections and
OpenSLO v1 documents, applied together in one transaction (all of it or none)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from service.db import Connection
from service.outbound import AllowList
from service.store import openslo as store
from service.usecases import audit
from service.usecases.catalog import SERVICES
from service.usecases.catalog_file import (
    NO_PRIVATE_HOSTS,
    ApplyReport,
    CatalogApplyChange,
    CatalogFile,
    apply_catalog,
)
from service.usecases.openslo_read import OpensloPlan, is_openslo, read_openslo

#: A kept Service document that says nothing beyond the catalog's fields.
EMPTY_SERVICE_DOCUMENT: dict[str, Any] = {"metadata": {}, "spec": {}}


class _DryRun(Exception):
    """Raised to roll back a dry run."""


def catalog_sections(documents: Sequence[Any]) -> Any:
    """The catalog documents of a file (those that are not OpenSLO) as one catalog: each
    section's entries in the order the documents give them. A document that is not a
    mapping is returned as it is, for the catalog's validation to refuse."""
    merged: dict[str, Any] = {}
    for document in documents:
        if is_openslo(document) or document is None:
            continue
        if not isinstance(document, dict):
            return document
        for section, entries in document.items():
            if isinstance(entries, list) and isinstance(merged.get(section), list):
                merged[section] = [*merged[section], *entries]
            else:
                merged[section] = entries
    return merged


def openslo_documents(documents: Sequence[Any]) -> list[tuple[int, Any]]:
    """The OpenSLO documents of a file, each with its index among the file's documents."""
    return [(i, d) for i, d in enumerate(documents) if is_openslo(d)]


async def _save_kept(
    con: Connection,
    kind: str,
    wanted: Mapping[str, dict[str, Any]],
    current: Mapping[str, dict[str, Any]],
    save: Callable[[str, dict[str, Any]], Any],
    empty: dict[str, Any] | None = None,
) -> list[CatalogApplyChange]:
    changes = []
    for name, document in wanted.items():
        have = current.get(name, empty)
        if have == document:
            continue
        await save(name, document)
        await audit.record(con, kind, name, current.get(name), document)
        action = "create" if have is None else "update"
        changes.append(CatalogApplyChange(action=action, kind=kind, key=name))
    return changes


async def _save_documents(con: Connection, plan: OpensloPlan) -> list[CatalogApplyChange]:
    async def slo(name: str, document: dict[str, Any]) -> None:
        await store.save_slo_document(con, kpi=name, document=document)

    async def service(name: str, document: dict[str, Any]) -> None:
        await store.save_service_document(con, service=name, document=document)

    slos = await _save_kept(
        con, "openslo-slo", plan.slo_documents, await store.slo_documents(con), slo
    )
    services = await _save_kept(
        con,
        "openslo-service",
        plan.service_documents,
        await store.service_documents(con),
        service,
        EMPTY_SERVICE_DOCUMENT,
    )
    return [*services, *slos]


async def apply_documents(
    con: Connection,
    catalog_file: CatalogFile,
    openslo: Sequence[tuple[int, Any]],
    *,
    dry_run: bool,
    progress: Callable[[int, int], None] | None = None,
    allow: AllowList = NO_PRIVATE_HOSTS,
) -> ApplyReport:
    """Apply the catalog and the OpenSLO documents of one file in one transaction; an
    OpenSLO document the service cannot take is a ValidationFailed naming it and its field.
    Data sources' URLs must be public or under `allow`."""
    if not openslo:
        return await apply_catalog(
            con, catalog_file, dry_run=dry_run, progress=progress, allow=allow
        )
    tiers = {s.slug: s.tier for s in await SERVICES.list(con)}
    tiers.update({s.slug: s.tier for s in catalog_file.services})
    plan = read_openslo(openslo, tiers)
    merged = catalog_file.model_copy(
        update={
            "services": [*catalog_file.services, *plan.services],
            "kpis": [*catalog_file.kpis, *plan.kpis],
        }
    )
    report = ApplyReport(dry_run=dry_run, changes=[], unchanged=0)
    try:
        async with con.transaction():
            applied = await apply_catalog(
                con, merged, dry_run=False, progress=progress, allow=allow
            )
            kept = await _save_documents(con, plan)
            report.changes = [*applied.changes, *kept]
            kept_total = len(plan.slo_documents) + len(plan.service_documents)
            report.unchanged = applied.unchanged + kept_total - len(kept)
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    return report
