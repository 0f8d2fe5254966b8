"""KPI definitions as code: apply a catalog file (teams, services, outcomes, data sources,
KPIs with their targets, links and SLIs, sources, initiatives) idempotently. Applying never
deletes; applying twice changes nothing.
An entry that exists is updated with the fields the file gives: a field left out keeps its
value, a field given as null (or an empty list) clears it.
A dry run applies inside a savepoint, reports, and rolls back, so it validates exactly alike.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, Field, WithJsonSchema

from service.clock import utc_now
from service.db import Connection
from service.errors import ApiError, FieldError, NotFound, ValidationFailed, invalid
from service.models.burn_alerts import BurnPolicyIn
from service.models.catalog import (
    Body,
    KpiIn,
    OutcomeIn,
    OutcomeLinkIn,
    ScopedTarget,
    ServiceIn,
    Slug,
    TargetIn,
    TeamIn,
)
from service.models.data_sources import DataSource, DataSourceIn
from service.models.deploy_gate import ErrorBudgetPolicySpec
from service.models.enums import KpiKind
from service.models.initiatives import InitiativeIn
from service.models.instants import Day
from service.models.maintenance import MaintenanceWindowSpec
from service.models.sources import SourceIn
from service.outbound import AllowList
from service.store import sources
from service.usecases import burn_alerts, catalog, catalog_gates
from service.usecases import data_sources as data_source_cases
from service.usecases import sources as source_cases
from service.usecases.catalog import KPIS, OUTCOMES, SERVICES, TEAMS, Collection
from service.usecases.initiatives import INITIATIVES
from service.usecases.sources import with_checked_options

#: The allow-list of an apply that names none: public hosts only.
NO_PRIVATE_HOSTS = AllowList()


class TargetSpec(ScopedTarget):
    # Checked as a target sent alone is, so a file is refused whole, naming the field, before
    # anything is applied (no docstring: it would become the schema's description).

    service: Slug | None = None
    tier: int | None = Field(default=None, ge=1, le=4)
    value: float = Field(allow_inf_nan=False)
    warning: float | None = Field(default=None, allow_inf_nan=False)
    effective_from: Day
    effective_to: Day | None = None


class OutcomeLinkSpec(OutcomeLinkIn):
    outcome: Slug


class KpiDefinition(KpiIn):
    targets: list[TargetSpec] = Field(default_factory=list)
    outcomes: list[OutcomeLinkSpec] = Field(default_factory=list)
    services: list[Slug] = Field(default_factory=list)
    burn_policy: BurnPolicyIn | None = Field(
        default=None,
        description="Burn-rate alerts on the KPI's error budget (availability and ratio KPIs); "
        "`{}` takes the KPI's target and the SRE workbook's rules; null removes the policy.",
    )


class CatalogFile(Body):
    teams: list[TeamIn] = Field(default_factory=list)
    services: list[ServiceIn] = Field(default_factory=list)
    outcomes: list[OutcomeIn] = Field(default_factory=list)
    data_sources: list[DataSourceIn] = Field(
        default_factory=list,
        description="Prometheus servers KPIs take SLIs from, applied before the KPIs. In a "
        "file for `kpi apply`, `secret_env: NAME` reads the secret from the environment.",
    )
    kpis: list[KpiDefinition] = Field(default_factory=list)
    sources: list[SourceIn] = Field(
        default_factory=list,
        description="Tools sending incidents and changes. In a file for `kpi apply`, "
        "`secret_env: NAME` reads the secret from the environment instead of the file.",
    )
    initiatives: list[InitiativeIn] = Field(
        default_factory=list,
        description="Technology programs, applied after services and KPIs (which they link).",
    )
    maintenance_windows: list[MaintenanceWindowSpec] = Field(
        default_factory=list,
        description="Planned downtime per service, keyed by (service, starts_at): a new one "
        "must start after now; one that has started may only be repeated unchanged.",
    )
    error_budget_policies: list[ErrorBudgetPolicySpec] = Field(
        default_factory=list,
        description="Each service's deploy gate policy, given whole (a field left out takes "
        "its default).",
    )


#: A field's current and desired values, each any JSON value (stated as `items`, which tools
#: reading no `prefixItems` understand too).
FieldChange = Annotated[
    tuple[Any, Any],
    WithJsonSchema({"type": "array", "items": {}, "minItems": 2, "maxItems": 2}),
]


class CatalogApplyChange(BaseModel):
    # One entry `kpi apply` created or updated (no docstring: it would become the schema's
    # description in the published OpenAPI document).
    action: Literal["create", "update"]
    kind: str
    key: str
    fields: dict[str, FieldChange] = Field(
        default_factory=dict, description="For updates: field -> [current, desired]."
    )


class ApplyReport(BaseModel):
    dry_run: bool
    changes: list[CatalogApplyChange]
    unchanged: int


class _DryRun(Exception):
    """Raised to roll back the savepoint of a dry run."""


M = TypeVar("M", bound=BaseModel)


def kept_fields(current: BaseModel, desired: M) -> M:
    """`desired` as it updates `current`: the fields `desired` was given, and for the others
    the current values (a field left out is kept; given as null, it is cleared)."""
    known = type(desired).model_fields
    data = {k: v for k, v in current.model_dump(exclude={"id"}).items() if k in known}
    data.update(desired.model_dump(include=desired.model_fields_set))
    return type(desired).model_validate(data)


def _diff(current: dict[str, Any], desired: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    return {k: (current.get(k), v) for k, v in desired.items() if current.get(k) != v}


class _Applier:
    def __init__(
        self, con: Connection, on_entry: Callable[[], None] = lambda: None,
        allow: AllowList = NO_PRIVATE_HOSTS,
    ) -> None:  # fmt: skip
        self.con = con
        self.allow = allow
        self.changes: list[CatalogApplyChange] = []
        self.unchanged = 0
        self.where = ""
        self.on_entry = on_entry  # called once per entry of the file, when it is applied

    async def _sync(
        self,
        kind: str,
        key: str,
        current: BaseModel | None,
        desired: M,
        create: Callable[[], Awaitable[Any]],
        update: Callable[[M], Awaitable[Any]],
        *,
        normalise: Callable[[dict[str, Any]], dict[str, Any]] = lambda d: d,
    ) -> None:
        if current is None:
            await create()
            self.changes.append(CatalogApplyChange(action="create", kind=kind, key=key))
            return
        merged = kept_fields(current, desired)
        want = normalise(merged.model_dump(mode="json"))
        have = normalise(current.model_dump(mode="json", exclude={"id"}))
        diff = _diff(have, want)
        if diff:
            await update(merged)
            self.changes.append(
                CatalogApplyChange(action="update", kind=kind, key=key, fields=diff)
            )
        else:
            self.unchanged += 1

    async def keyed(
        self, collection: Collection[M, Any], items: Sequence[M], where: str,
        normalise: Callable[[dict[str, Any]], dict[str, Any]] = lambda d: d,
        order: Sequence[int] | None = None,
    ) -> None:  # fmt: skip
        """Teams, outcomes or initiatives: each created, or updated with the fields it gives
        (compared as `normalise` puts them), in the `order` of their positions given."""
        current = {getattr(c, collection.key): c for c in await collection.list(self.con)}
        for i in range(len(items)) if order is None else order:
            item = items[i]
            self.where = f"{where}/{i}"
            key = getattr(item, collection.key)
            create = partial(collection.create, self.con, item)
            replace = partial(collection.replace, self.con, key)
            await self._sync(collection.noun, key, current.get(key), item, create, replace,
                             normalise=normalise)  # fmt: skip
            self.on_entry()

    async def services(self, services: Sequence[ServiceIn]) -> None:
        current = {s.slug: s for s in await SERVICES.list(self.con)}
        # New services are created bare first, so dependencies may point at any of them.
        for i, s in enumerate(services):
            self.where = f"services/{i}"
            if s.slug not in current:
                bare = s.model_copy(update={"depends_on": []})
                await SERVICES.create(self.con, bare)
        for i, s in enumerate(services):
            self.where = f"services/{i}"
            existing = current.get(s.slug)
            if existing is None:
                await SERVICES.replace(self.con, s.slug, s)
                self.changes.append(CatalogApplyChange(action="create", kind="service", key=s.slug))
                self.on_entry()
                continue
            await self._sync(
                "service", s.slug, existing, s, _noop,
                partial(SERVICES.replace, self.con, s.slug),
                normalise=_comparable_service,
            )  # fmt: skip
            self.on_entry()

    async def sources(self, wanted: Sequence[SourceIn]) -> None:
        for i, src in enumerate(wanted):
            self.where = f"sources/{i}"
            try:
                current = await sources.get_source_with_secret(self.con, name=src.name)
            except NotFound:
                await source_cases.create_source(self.con, source=src)
                self.changes.append(
                    CatalogApplyChange(action="create", kind="source", key=src.name)
                )
                self.on_entry()
                continue
            have = current.source.model_dump(mode="json", exclude={"id", "has_secret",
                                                                   "webhook_path"})  # fmt: skip
            merged = with_checked_options(kept_fields(current.source, src))
            want = merged.model_dump(mode="json", exclude={"secret"})
            diff = _diff(have, want)
            given = src.secret.get_secret_value() if src.secret else None
            if given is not None and given != current.secret:
                diff["secret"] = ("(hidden)", "(changed)")
            if diff:
                await source_cases.update_source(self.con, name=src.name, source=merged)
                self.changes.append(CatalogApplyChange(action="update", kind="source", key=src.name,
                                           fields=diff))  # fmt: skip
            else:
                self.unchanged += 1
            self.on_entry()

    async def data_sources(self, wanted: Sequence[DataSourceIn]) -> None:
        """Each created, or replaced when its settings differ (a secret given counts as a
        change when it differs from the stored one)."""
        current = {d.name: d for d in await data_source_cases.list_data_sources(self.con)}
        for i, src in enumerate(wanted):
            self.where = f"data_sources/{i}"
            existing = current.get(src.name)
            if existing is None:
                await data_source_cases.create_data_source(self.con, src, allow=self.allow)
                self.changes.append(
                    CatalogApplyChange(action="create", kind="data-source", key=src.name)
                )
                self.on_entry()
                continue
            have = existing.model_dump(mode="json", include={"kind", "url", "auth", "username"})
            merged = kept_fields(_data_source_in(existing), src)
            want = merged.model_dump(mode="json", include={"kind", "url", "auth", "username"})
            diff = _diff(have, want)
            if src.secret is not None and await data_source_cases.secret_differs(
                self.con, existing.id, src.secret.get_secret_value()
            ):
                diff["secret"] = ("(hidden)", "(changed)")
            if diff:
                await data_source_cases.replace_data_source(self.con, src.name, merged,
                                                            allow=self.allow)  # fmt: skip
                self.changes.append(CatalogApplyChange(
                    action="update", kind="data-source", key=src.name, fields=diff))  # fmt: skip
            else:
                self.unchanged += 1
            self.on_entry()

    async def kpis(self, kpis: Sequence[KpiDefinition]) -> None:
        current = {k.key: k for k in await KPIS.list(self.con)}
        known = set(current)
        pending = list(kpis)
        # Ratio KPIs after the KPIs they divide, whatever the file's order.
        while pending:
            ready = [k for k in pending if _ratio_refs(k) <= known | {k.key}]
            if not ready:
                ready = pending[:1]  # the store names the unknown reference
            for k in ready:
                self.where = f"kpis/{list(kpis).index(k)}"
                await self._kpi(k, current.get(k.key))
                self.on_entry()
                known.add(k.key)
                pending.remove(k)

    async def _kpi(self, k: KpiDefinition, existing: BaseModel | None) -> None:
        given = k.model_dump(exclude={"targets", "outcomes", "services", "burn_policy"},
                             exclude_unset=True)  # fmt: skip
        kpi = KpiIn.model_validate({**given, "key": k.key})
        await self._sync(
            "kpi", k.key, existing, kpi,
            partial(KPIS.create, self.con, kpi),
            partial(KPIS.replace, self.con, k.key),
        )  # fmt: skip
        await self._targets(k)
        await self._outcome_links(k)
        await self._service_links(k)
        await self._burn_policy(k)

    async def _targets(self, k: KpiDefinition) -> None:
        current = {
            (t.service, t.tier, t.effective_from): t
            for t in await catalog.list_targets(self.con, kpi=k.key)
        }
        for spec in k.targets:
            target = TargetIn.model_validate({"kpi": k.key, **spec.model_dump(exclude_unset=True)})
            existing = current.get((spec.service, spec.tier, spec.effective_from))
            scope = spec.service or (f"tier {spec.tier}" if spec.tier else "all")
            key = f"{k.key} [{scope}] from {spec.effective_from}"
            target_id = existing.id if existing else 0
            await self._sync(
                "target", key, existing, target,
                partial(catalog.create_target, self.con, target),
                partial(catalog.replace_target, self.con, target_id),
            )  # fmt: skip

    async def _outcome_links(self, k: KpiDefinition) -> None:
        current = {link.outcome: link for link in await catalog.outcome_links(self.con, kpi=k.key)}
        for spec in k.outcomes:
            link = OutcomeLinkIn.model_validate(spec.model_dump(exclude={"outcome"},
                                                                exclude_unset=True))  # fmt: skip
            existing = current.get(spec.outcome)
            have = (
                None
                if existing is None
                else OutcomeLinkIn(weight=existing.weight, rationale=existing.rationale)
            )

            await self._sync(
                "kpi-outcome", f"{k.key} -> {spec.outcome}", have, link,
                partial(catalog.link_outcome, self.con, kpi=k.key, outcome=spec.outcome, link=link),
                partial(self._update_outcome_link, k.key, spec.outcome),
            )  # fmt: skip

    async def _burn_policy(self, k: KpiDefinition) -> None:
        """The KPI's burn-rate policy: set when given, removed when given as null, left alone
        when left out."""
        if "burn_policy" not in k.model_fields_set:
            return
        try:
            current: BurnPolicyIn | None = await burn_alerts.get_policy(self.con, kpi=k.key)
        except NotFound:
            current = None
        have = None if current is None else BurnPolicyIn(**current.model_dump(
            include={"objective", "rules"}))  # fmt: skip
        if k.burn_policy is None:
            if have is not None:
                await burn_alerts.delete_policy(self.con, kpi=k.key)
                self.changes.append(CatalogApplyChange(
                    action="update", kind="burn-policy", key=k.key,
                    fields={"burn_policy": (have.model_dump(mode="json"), None)}))  # fmt: skip
            else:
                self.unchanged += 1
            return
        want = k.burn_policy
        if have is not None and have.model_dump() == want.model_dump():
            self.unchanged += 1
            return
        try:
            await burn_alerts.set_policy(self.con, kpi=k.key, policy=want, now=utc_now())
        except ValidationFailed as exc:  # the KPI's kind: the entry's policy is to blame
            raise invalid("burn_policy", exc.errors[0].detail) from exc
        fields = {}
        if have is not None:
            fields = _diff(have.model_dump(mode="json"), want.model_dump(mode="json"))
        action: Literal["create", "update"] = "create" if have is None else "update"
        self.changes.append(
            CatalogApplyChange(action=action, kind="burn-policy", key=k.key, fields=fields)
        )

    async def _update_outcome_link(self, kpi: str, outcome: str, link: OutcomeLinkIn) -> None:
        await catalog.link_outcome(self.con, kpi=kpi, outcome=outcome, link=link)

    async def _service_links(self, k: KpiDefinition) -> None:
        current = {link.service for link in await catalog.service_links(self.con, kpi=k.key)}
        for slug in k.services:
            if slug in current:
                self.unchanged += 1
                continue
            await catalog.link_service(self.con, kpi=k.key, service=slug)
            self.changes.append(
                CatalogApplyChange(action="create", kind="kpi-service", key=f"{k.key} -> {slug}")
            )


async def _noop() -> None:
    return None


def parents_first(teams: Sequence[TeamIn]) -> list[int]:
    """The positions of the teams in the order they can be written: a team after its parent
    when the file holds the parent too, else in file order (a cycle is left to the store to
    refuse, naming `parent`)."""
    position = {t.slug: i for i, t in enumerate(teams)}
    done: list[int] = []
    seen: set[int] = set()
    for i in range(len(teams)):
        chain = []
        at: int | None = i
        while at is not None and at not in seen and at not in chain:
            chain.append(at)
            parent = teams[at].parent
            at = position.get(parent) if parent is not None else None
        for j in reversed(chain):
            seen.add(j)
            done.append(j)
    return done


def _comparable_service(data: dict[str, Any]) -> dict[str, Any]:
    """A service as compared for changes: dependencies in order, no attributes as {}, and
    without `team_since`, which is not read back (a change of team carries it along)."""
    data = {k: v for k, v in data.items() if k != "team_since"}
    return {
        **data,
        "depends_on": sorted(data.get("depends_on") or []),
        "attributes": data.get("attributes") or {},
    }


def _comparable_initiative(data: dict[str, Any]) -> dict[str, Any]:
    """An initiative as compared for changes: its services in any order."""
    return {**data, "services": sorted(data.get("services") or [])}


def _data_source_in(current: DataSource) -> DataSourceIn:
    """A stored data source as the request that would keep it (its secret left out: kept)."""
    return DataSourceIn.model_validate(
        current.model_dump(include={"name", "kind", "url", "auth", "username"})
    )


def _ratio_refs(k: KpiIn) -> set[str]:
    if k.kind is not KpiKind.RATIO:
        return set()
    return {r for r in (k.numerator, k.denominator) if r}


def _locate(exc: ApiError, prefix: str) -> ApiError:
    """Point an error raised for one entry at that entry in the file."""
    exc.errors = [FieldError("#/" + prefix + "/" + e.pointer.lstrip("#/"), e.detail)
                  for e in exc.errors]  # fmt: skip
    exc.detail = f"{prefix.replace('/', '.')}: {exc.detail}"
    return exc


def entry_count(catalog_file: CatalogFile) -> int:
    """How many entries (teams, services, outcomes, KPIs, sources, initiatives) the file
    holds."""
    return (
        len(catalog_file.teams)
        + len(catalog_file.services)
        + len(catalog_file.outcomes)
        + len(catalog_file.kpis)
        + len(catalog_file.data_sources)
        + len(catalog_file.sources)
        + len(catalog_file.initiatives)
        + len(catalog_file.maintenance_windows)
        + len(catalog_file.error_budget_policies)
    )


async def apply_catalog(
    con: Connection,
    catalog_file: CatalogFile,
    *,
    dry_run: bool,
    progress: Callable[[int, int], None] | None = None,
    now: dt.datetime | None = None,
    allow: AllowList = NO_PRIVATE_HOSTS,
) -> ApplyReport:
    """Apply the file in one transaction. `progress(done, total)` is called as each entry is
    applied (a KPI with its targets and links counts as one entry). Data sources' URLs must
    be public or under `allow`."""
    total = entry_count(catalog_file)
    done = 0

    def on_entry() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, total)

    applier = _Applier(con, on_entry, allow)
    record, locate = catalog_gates.reporting(applier)
    clock = now or utc_now()
    steps: list[tuple[str, Callable[[], Awaitable[None]]]] = [
        (
            "teams",
            lambda: applier.keyed(
                TEAMS, catalog_file.teams, "teams", order=parents_first(catalog_file.teams)
            ),
        ),
        ("services", lambda: applier.services(catalog_file.services)),
        ("outcomes", lambda: applier.keyed(OUTCOMES, catalog_file.outcomes, "outcomes")),
        ("data_sources", lambda: applier.data_sources(catalog_file.data_sources)),
        ("kpis", lambda: applier.kpis(catalog_file.kpis)),
        ("sources", lambda: applier.sources(catalog_file.sources)),
        (
            "initiatives",
            lambda: applier.keyed(
                INITIATIVES, catalog_file.initiatives, "initiatives", _comparable_initiative
            ),
        ),
        (
            "maintenance_windows",
            lambda: catalog_gates.apply_windows(
                con, catalog_file.maintenance_windows, clock, record, locate
            ),
        ),
        (
            "error_budget_policies",
            lambda: catalog_gates.apply_policies(
                con, catalog_file.error_budget_policies, record, locate
            ),
        ),
    ]
    try:
        async with con.transaction():
            for section, step in steps:
                try:
                    await step()
                except ApiError as exc:
                    raise _locate(exc, applier.where or section) from exc
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    return ApplyReport(dry_run=dry_run, changes=applier.changes, unchanged=applier.unchanged)
