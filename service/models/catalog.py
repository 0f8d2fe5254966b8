"""Request and response bodies of the catalog: teams, services, outcomes, KPIs, targets, links."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from service.kpi.metrics import FilterPart, filter_problem, unit_problem
from service.kpi.periods import zone_info
from service.kpi.sli import BUCKET_SECONDS, PLACEHOLDER
from service.models.entity_refs import SERVICE_REFS, TEAM_REFS, ServiceRef, TeamRef
from service.models.enums import (
    Aggregation,
    BuiltinMetric,
    Cadence,
    ChangeKind,
    Channel,
    Direction,
    KpiKind,
    Severity,
)
from service.models.instants import Day, Instant
from service.models.labels import Labels
from service.models.stored import is_stored
from service.models.text import Identifier, Visible
from service.models.urls import check_url, shown_url


def _no_nul(text: str) -> str:
    # Postgres text cannot hold U+0000; refusing it here lets the error name the field.
    if "\x00" in text:
        raise ValueError("must not contain the NUL character (U+0000)")
    return text


NoNul = AfterValidator(_no_nul)

#: A row id as a client may send it: Postgres' bigint range.
RowId = Annotated[int, Field(ge=1, le=2**63 - 1)]

Slug = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$"),
    Field(description="Lower-case letters, digits and dashes, at most 63 characters."),
]
KpiKey = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,62}$"),
    Field(description="Lower-case letters, digits and underscores, starting with a letter."),
]


def _not_blank(text: str) -> str:
    # Spaces around a name are dropped; a name of spaces alone names nothing.
    stripped = text.strip()
    if not stripped:
        raise ValueError("must not be blank: give at least one visible character")
    return stripped


NotBlank = AfterValidator(_not_blank)

Name = Annotated[str, StringConstraints(min_length=1, max_length=200), NotBlank, Visible]
Text = Annotated[str, StringConstraints(max_length=2000), NoNul]
Owner = Annotated[
    str,
    StringConstraints(min_length=1, max_length=200),
    NotBlank,
    Visible,
    Field(description="A person or role, e.g. an e-mail address."),
]


class Body(BaseModel):
    """Base of every request body: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


class FieldProblem(ValueError):
    """A cross-field check that failed, naming the field to blame (see errors.from_pydantic)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def _with_default_ref(data: Any, default_for: Callable[[str], str]) -> Any:
    """A written item's data with the reference its slug gives when it names none."""
    if isinstance(data, dict) and data.get("entity_ref") is None and "slug" in data:
        return {**data, "entity_ref": default_for(data["slug"])}
    return data


class TeamIn(Body):
    slug: Slug
    name: Name
    email: Owner | None = None
    entity_ref: TeamRef | None = Field(
        default=None,
        description="The team's Backstage entity reference; left out, `group:default/<slug>`.",
    )
    parent: Slug | None = Field(
        default=None,
        description="Slug of the parent team (a group, department or organisation); figures "
        "roll up to it. A parent that would make the team its own ancestor is refused.",
    )

    def stored_ref(self) -> str:
        """The reference kept for the team: the one given, else its slug's."""
        return self.entity_ref or TEAM_REFS.default_for(self.slug)


class Team(TeamIn):
    id: int
    parent_id: int | None = Field(default=None, exclude=True)
    entity_ref: TeamRef = Field(description="The team's Backstage entity reference.")

    @model_validator(mode="before")
    @classmethod
    def _default_ref(cls, data: Any) -> Any:
        return _with_default_ref(data, TEAM_REFS.default_for)


class ServiceIn(Body):
    slug: Slug
    name: Name
    tier: int = Field(ge=1, le=4, description="1 is the most critical.")
    team: Slug | None = Field(default=None, description="Slug of the owning team.")
    team_since: Instant | None = Field(
        default=None,
        description="When a change of the service's team takes effect (default: now; not in "
        "the future, and after the previous team took it over); ignored when the team stays "
        "the same. Not read back: past periods are reported against the team that owned the "
        "service then.",
    )
    business_owner: Owner | None = None
    technology_owner: Owner | None = None
    revenue_per_hour: float | None = Field(default=None, ge=0, le=1e12, allow_inf_nan=False)
    users: int | None = Field(default=None, ge=0, le=10**12)
    outage_threshold: Severity = Field(
        default=Severity.SEV2,
        description="Incidents of this severity or worse count as outage for availability.",
    )
    depends_on: list[Slug] = Field(default_factory=list, max_length=200)
    attributes: Labels | None = Field(
        default=None,
        description='Free-form pairs to group figures by, e.g. {"vendor": "acme"} '
        "(see GET /v1/failure-clusters); null or left out: none.",
    )
    entity_ref: ServiceRef | None = Field(
        default=None,
        description="The service's Backstage entity reference; left out, "
        "`component:default/<slug>`.",
    )

    def stored_ref(self) -> str:
        """The reference kept for the service: the one given, else its slug's."""
        return self.entity_ref or SERVICE_REFS.default_for(self.slug)

    @field_validator("revenue_per_hour")
    @classmethod
    def _cents(cls, value: float | None) -> float | None:
        # Stored as numeric(18, 2): round here so what is read back equals what was sent.
        return None if value is None else round(value, 2)


class Service(ServiceIn):
    id: int
    attributes: dict[str, str] = Field(default_factory=dict)
    team_id: int | None = Field(default=None, exclude=True)
    #: Written only: the ownership history keeps it (GET /v1/teams/{slug}/figures reads it).
    team_since: dt.datetime | None = Field(default=None, exclude=True)
    entity_ref: ServiceRef = Field(description="The service's Backstage entity reference.")

    @model_validator(mode="before")
    @classmethod
    def _default_ref(cls, data: Any) -> Any:
        return _with_default_ref(data, SERVICE_REFS.default_for)


class OutcomeIn(Body):
    slug: Slug
    name: Name
    description: Text | None = None
    owner: Owner | None = None


class Outcome(OutcomeIn):
    id: int


class EscalationStep(Body):
    who: Owner
    channel: Channel
    address: Annotated[str, StringConstraints(min_length=1, max_length=2000), NoNul] = Field(
        description="Webhook URL (http or https, no credentials; shown whole to admin tokens "
        "only, others see its host) or e-mail address."
    )
    after_breached_periods: int = Field(default=1, ge=1, le=1000)
    after_unacknowledged_minutes: int | None = Field(default=None, ge=1, le=525_600)

    @model_validator(mode="after")
    def _address_matches_channel(self, info: ValidationInfo) -> Self:
        if self.channel is Channel.WEBHOOK and not is_stored(info):
            # Syntax here; whether its host may be reached is decided at each send. A stored
            # URL is read as it is: `kpi doctor` reports one the rules now refuse.
            try:
                check_url(self.address)
            except ValueError as exc:
                raise FieldProblem("address", f"a webhook step's URL {exc}") from exc
        if self.channel is Channel.EMAIL and "@" not in self.address:
            raise FieldProblem("address", "an email step needs an e-mail address")
        return self


EnvironmentName = Annotated[str, StringConstraints(min_length=1, max_length=200), NoNul]


class BuiltinFilter(Body):
    """What a builtin KPI counts, beyond its services (the services it applies to, or every
    one): only incidents of these severities, only changes to these environments (by default
    the source's production environments) and of these kinds. Left out: no restriction."""

    severities: list[Severity] | None = Field(
        default=None, min_length=1, max_length=5,
        description="Incidents of these severities only (incident and outage metrics).",
    )  # fmt: skip
    environments: list[EnvironmentName] | None = Field(
        default=None,
        min_length=1,
        max_length=50,
        description="Changes to these environments (case-insensitive), production or not, "
        "instead of the production ones (change metrics).",
    )
    change_kinds: list[ChangeKind] | None = Field(
        default=None,
        min_length=1,
        max_length=5,
        description="Changes of these kinds only (change metrics).",
    )

    def is_empty(self) -> bool:
        return self.severities is None and self.environments is None and self.change_kinds is None


def _check_filter(metric: BuiltinMetric, f: BuiltinFilter) -> None:
    for part in FilterPart:
        problem = filter_problem(metric, part) if getattr(f, part.value) is not None else None
        if problem is not None:
            raise FieldProblem(f"filter.{part.value}", problem)


def iana_zone(name: str) -> str:
    """An IANA time zone's name, as given; a ValueError for anything else."""
    zone_info(name)
    return name


# The bucket an SLI's queries are evaluated for, as a Prometheus duration.
class SliBucket(StrEnum):
    M1 = "1m"
    M5 = "5m"
    M10 = "10m"
    M15 = "15m"
    M30 = "30m"
    H1 = "1h"
    H2 = "2h"
    H3 = "3h"
    H6 = "6h"
    H12 = "12h"
    D1 = "1d"

    @property
    def seconds(self) -> int:
        return BUCKET_SECONDS[self.value]


Query = Annotated[str, StringConstraints(min_length=1, max_length=4000), NoNul]


class PrometheusSli(Body):
    """A ratio KPI's good and total events from PromQL queries, evaluated per bucket."""

    data_source: Slug = Field(description="The name of a data source (POST /v1/data-sources).")
    good_query: Query = Field(
        description=f"PromQL giving the good events of one bucket as one series, e.g. "
        f'`sum(increase(http_requests_total{{code!~"5.."}}[{PLACEHOLDER}]))`; '
        f"{PLACEHOLDER} is replaced by the bucket (e.g. 1h)."
    )
    total_query: Query = Field(
        description=f"PromQL giving all events of one bucket as one series, e.g. "
        f"`sum(increase(http_requests_total[{PLACEHOLDER}]))`."
    )
    bucket: SliBucket = Field(
        default=SliBucket.H1,
        description="The span each evaluation covers; buckets start at UTC midnight.",
    )
    service: Slug | None = Field(
        default=None, description="The service the points are stored for; none: overall."
    )


class KpiIn(Body):
    key: KpiKey
    name: Name
    strategic_question: Text | None = None
    business_impact: Text | None = None
    unit: Annotated[str, StringConstraints(min_length=1, max_length=40), NoNul] = Field(
        description="What the value is in. A builtin metric takes only the units it is "
        "reported in: a time unit for durations, percent or share for rates, deploys, "
        "deploys/day or deploys/week for deployment frequency, a currency code for spend."
    )
    direction: Direction
    aggregation: Aggregation | None = Field(
        default=None,
        description="How an observed KPI combines the points of a bucket (required for "
        "observed KPIs). Builtin and ratio KPIs are combined by their definition: a value "
        "given for them is ignored.",
    )
    kind: KpiKind = KpiKind.OBSERVED
    metric: BuiltinMetric | None = Field(default=None, description="For kind=builtin.")
    filter: BuiltinFilter | None = Field(
        default=None, description="For kind=builtin: which incidents and changes it counts."
    )
    availability_kpi: KpiKey | None = Field(
        default=None,
        description="For metric error_budget_remaining: the builtin availability KPI whose "
        "targets (the service's, its tier's or the global one) are the objectives the budget "
        "is computed from; without one, each tier's default objective.",
    )
    numerator: KpiKey | None = Field(default=None, description="For kind=ratio: a KPI key.")
    denominator: KpiKey | None = Field(default=None, description="For kind=ratio: a KPI key.")
    cadence: Cadence | None = None
    time_zone: Annotated[str, AfterValidator(iana_zone)] | None = Field(
        default=None,
        max_length=60,
        description="The IANA time zone (e.g. Europe/Berlin) the KPI's periods and series "
        "buckets start their days in, instead of the organisation's (KPI_TIME_ZONE).",
        examples=["Europe/Berlin"],
    )
    business_owner: Owner | None = None
    technology_owner: Owner | None = None
    board_level: bool = False
    tags: list[Annotated[str, StringConstraints(min_length=1, max_length=60), Identifier]] = Field(
        default_factory=list, max_length=50
    )
    escalation_path: list[EscalationStep] = Field(default_factory=list, max_length=20)
    prometheus: PrometheusSli | None = Field(
        default=None,
        description="For kind=ratio: good and total events from Prometheus queries, stored "
        "each bucket as observations of the numerator (good) and the denominator (total), "
        "both observed KPIs with aggregation sum.",
    )

    @model_validator(mode="after")
    def _kind_fields(self) -> Self:
        """Each kind takes its own fields (checked in this order, so the first problem named
        is always the same): a builtin its metric, unit and filter, an observed KPI its
        aggregation, a ratio its two sides."""
        self._check_metric()
        if self.kind is KpiKind.OBSERVED and self.aggregation is None:
            raise FieldProblem("aggregation", "required for an observed KPI")
        if self.kind is not KpiKind.OBSERVED:
            self.aggregation = None
        self._check_builtin_fields()
        for side in ("numerator", "denominator"):
            self._check_side(side)
        if self.prometheus is not None and self.kind is not KpiKind.RATIO:
            raise FieldProblem("prometheus", "only allowed when kind is ratio")
        if self.prometheus is not None and self.numerator == self.denominator:
            raise FieldProblem("denominator", "an SLI needs two KPIs: good and total events")
        return self

    def _check_metric(self) -> None:
        if self.kind is KpiKind.BUILTIN and self.metric is None:
            raise FieldProblem("metric", "required when kind is builtin")
        if self.kind is not KpiKind.BUILTIN and self.metric is not None:
            raise FieldProblem("metric", "only allowed when kind is builtin")

    def _check_builtin_fields(self) -> None:
        if self.metric is None:
            if self.filter is not None:
                raise FieldProblem("filter", "only allowed when kind is builtin")
        else:
            problem = unit_problem(self.metric, self.unit)
            if problem is not None:
                raise FieldProblem("unit", problem)
            if self.filter is not None:
                _check_filter(self.metric, self.filter)
                if self.filter.is_empty():
                    self.filter = None
        budget = self.metric is BuiltinMetric.ERROR_BUDGET_REMAINING
        if not budget and self.availability_kpi is not None:
            raise FieldProblem("availability_kpi", "only allowed for error_budget_remaining")

    def _check_side(self, side: str) -> None:
        """A ratio's numerator or denominator: given for ratios only, never the KPI itself."""
        given = getattr(self, side)
        if self.kind is KpiKind.RATIO and given is None:
            raise FieldProblem(side, "required when kind is ratio")
        if self.kind is not KpiKind.RATIO and given is not None:
            raise FieldProblem(side, "only allowed when kind is ratio")
        if given == self.key:
            raise FieldProblem(side, "a ratio KPI cannot refer to itself")


class Kpi(KpiIn):
    id: int

    def as_seen(self, *, admin: bool) -> Kpi:
        """The definition as a token may read it: webhook URLs whole for admins, their host
        alone for others (a URL may hold a secret path or query)."""
        if admin or not any(s.channel is Channel.WEBHOOK for s in self.escalation_path):
            return self
        steps = [
            s.model_copy(update={"address": shown_url(s.address, admin=False)})
            if s.channel is Channel.WEBHOOK else s
            for s in self.escalation_path
        ]  # fmt: skip
        return self.model_copy(update={"escalation_path": steps})


class ScopedTarget(Body):
    """The check every target makes, whether sent alone or inside a catalog file: it applies
    to a service, a tier or all, over [effective_from, effective_to) with the end after the
    start. Each subclass declares the fields, in the order its schema lists them."""

    if TYPE_CHECKING:
        service: str | None
        tier: int | None
        effective_from: dt.date
        effective_to: dt.date | None

    @model_validator(mode="after")
    def _scope_and_dates(self) -> Self:
        if self.service is not None and self.tier is not None:
            raise FieldProblem("tier", "give a service or a tier, not both")
        if self.effective_to is not None and self.effective_to <= self.effective_from:
            raise FieldProblem("effective_to", "must be after effective_from")
        return self


class TargetIn(ScopedTarget):
    kpi: KpiKey
    service: Slug | None = Field(default=None, description="Target for one service only.")
    tier: int | None = Field(default=None, ge=1, le=4, description="Target for one tier only.")
    value: float = Field(allow_inf_nan=False)
    warning: float | None = Field(
        default=None,
        allow_inf_nan=False,
        description="Values between target and warning are 'at risk'; must lie on the good "
        "side of the target for the KPI's direction.",
    )
    effective_from: Day
    effective_to: Day | None = None


class Target(TargetIn):
    id: int


class OutcomeLinkIn(Body):
    weight: float = Field(default=1.0, gt=0, le=1000, allow_inf_nan=False)
    rationale: Text | None = None


class OutcomeLink(OutcomeLinkIn):
    kpi: KpiKey
    outcome: Slug


class ServiceLink(BaseModel):
    kpi: KpiKey
    service: Slug
