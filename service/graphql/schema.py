"""The GraphQL schema: queries (scope read) and catalog mutations (scope admin)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Iterator
from typing import Annotated, Any, TypeVar

import asyncpg
import strawberry
from graphql import GraphQLError, GraphQLSchema
from pydantic import BaseModel, ValidationError
from strawberry.extensions import (
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
    SchemaExtension,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.types.graphql import OperationType

from service.config import Settings
from service.db import Connection
from service.errors import ApiError, blames_client, from_pydantic, refused_value
from service.graphql import prefetch
from service.graphql.error_log import LoggedSchema
from service.graphql.execution import ExecutionContext
from service.graphql.inputs import (
    KpiInput,
    OutcomeInput,
    OutcomeLinkInput,
    ServiceInput,
    TargetInput,
    TeamInput,
)
from service.graphql.limits import CostLimit, cost_schema
from service.graphql.nul_guard import RefuseNulCharacters
from service.graphql.types.common import (
    Connection as Page,
)
from service.graphql.types.common import (
    DateTime,
    Deleted,
    Info,
    Problem,
    decode_cursor,
    encode_cursor,
    page_size,
)
from service.graphql.types.incident import Change, Delivery, Incident
from service.graphql.types.kpi import Kpi, Target
from service.graphql.types.outcome import Outcome
from service.graphql.types.reports import (
    Escalation,
    GovernanceGap,
    KpiStatus,
    Scorecard,
    convert,
)
from service.graphql.types.service import Service
from service.graphql.types.team import Team
from service.models import catalog as models
from service.models.enums import Scope
from service.models.instants import check_instant
from service.models.statuses import EscalationAction
from service.store import deliveries as ingest_store
from service.store import evaluation, locks, reports
from service.store import kpis as kpi_store
from service.store import outcomes as outcome_store
from service.store import services as service_store
from service.store import teams as team_store
from service.usecases import catalog

N = TypeVar("N")
log = logging.getLogger(__name__)


def _page(items: list[Any], first: int, wrap: Callable[[Any], N]) -> Page[N]:
    more = len(items) > first
    return Page.of([(encode_cursor(i.id), wrap(i)) for i in items[:first]], more)


@strawberry.type
class Query:
    @strawberry.field(description="Business services, ordered by creation; cursor-paginated.")
    async def services(
        self, info: Info, first: int = 50, after: str | None = None,
        tier: int | None = None, team: str | None = None,
    ) -> Page[Service]:  # fmt: skip
        size = page_size(first)
        async with info.context.db.acquire() as con:
            rows = await service_store.list_services(
                con, tier=tier, team=team, after_id=decode_cursor(after), limit=size + 1
            )
        for row in rows:
            info.context.loaders.service.prime(row.id, row)
        await prefetch.services_page(info, rows[:size])
        return _page(rows, size, Service.of)

    @strawberry.field
    async def service(self, info: Info, slug: str) -> Service | None:
        async with info.context.db.acquire() as con:
            found = await service_store.list_services(con, slugs=[slug])
        return Service.of(found[0]) if found else None

    @strawberry.field(description="KPI definitions, ordered by creation; cursor-paginated.")
    async def kpis(
        self, info: Info, first: int = 50, after: str | None = None,
        board_level: bool | None = None,
    ) -> Page[Kpi]:  # fmt: skip
        size = page_size(first)
        async with info.context.db.acquire() as con:
            rows = await kpi_store.list_kpis(
                con, after_id=decode_cursor(after), board_level=board_level, limit=size + 1
            )
        return _page(rows, size, Kpi.of)

    @strawberry.field
    async def kpi(self, info: Info, key: str) -> Kpi | None:
        async with info.context.db.acquire() as con:
            found = await kpi_store.list_kpis(con, keys=[key])
        return Kpi.of(found[0]) if found else None

    @strawberry.field
    async def outcomes(
        self, info: Info, first: int = 50, after: str | None = None
    ) -> Page[Outcome]:
        size = page_size(first)
        after_id = decode_cursor(after) or 0
        async with info.context.db.acquire() as con:
            rows = await outcome_store.page_outcomes(con, after_id=after_id, limit=size + 1)
        return _page(rows, size, Outcome.of)

    @strawberry.field
    async def outcome(self, info: Info, slug: str) -> Outcome | None:
        async with info.context.db.acquire() as con:
            found = await outcome_store.list_outcomes(con, slugs=[slug])
        return Outcome.of(found[0]) if found else None

    @strawberry.field
    async def incident(self, info: Info, id: int) -> Incident | None:
        found = await info.context.loaders.incident.load(id)
        return Incident.of(found) if found else None

    @strawberry.field
    async def change(self, info: Info, id: int) -> Change | None:
        found = await info.context.loaders.change.load(id)
        return Change.of(found) if found else None

    @strawberry.field(
        description="The webhook delivery log, newest first (admin scope); cursor-paginated."
    )
    async def deliveries(
        self, info: Info, status: str | None = None, source: str | None = None,
        first: int = 50, after: str | None = None,
    ) -> Page[Delivery]:  # fmt: skip
        if not info.context.principal.allows(Scope.ADMIN):
            raise GraphQLError(
                "deliveries need the 'admin' scope",
                extensions={"code": "FORBIDDEN", "required_scope": "admin"},
            )
        size = page_size(first)
        async with info.context.db.acquire() as con:
            rows = await ingest_store.list_deliveries(
                con, status=status, source=source, before_id=decode_cursor(after),
                limit=size + 1,
            )  # fmt: skip
        return _page(rows, size, lambda r: Delivery(
            id=r.id, source=r.source, delivery_key=r.delivery_key, event_type=r.event_type,
            received_at=r.received_at, status=r.status, detail=r.detail, attempts=r.attempts,
        ))  # fmt: skip

    @strawberry.field
    async def teams(self, info: Info, first: int = 50, after: str | None = None) -> Page[Team]:
        size = page_size(first)
        after_id = decode_cursor(after) or 0
        async with info.context.db.acquire() as con:
            rows = await team_store.page_teams(con, after_id=after_id, limit=size + 1)
        return _page(rows, size, Team.of)

    @strawberry.field(
        description="The board-level KPIs for the period of their cadence holding `period` "
        "(default: each KPI's last closed period), with value, target, status, trend and "
        "owners; warns when more than eight KPIs are flagged board-level."
    )
    async def scorecard(self, info: Info, period: dt.datetime | None = None) -> Scorecard:
        on = check_instant("period", period)
        async with info.context.db.acquire() as con:
            found = await reports.scorecard(con, on, info.context.now())
        return convert(Scorecard, found)  # type: ignore[no-any-return]

    @strawberry.field(
        description="KPIs missing an owner, a cadence, a target or an escalation path."
    )
    async def governance_gaps(self, info: Info) -> list[GovernanceGap]:
        async with info.context.db.acquire() as con:
            found = await reports.governance_gaps(con)
        return [convert(GovernanceGap, g) for g in found]

    @strawberry.field(description="Escalations, newest first, with their events; cursor-paginated.")
    async def escalations(
        self, info: Info, state: str | None = None, kpi: str | None = None, first: int = 50,
        after: str | None = None,
    ) -> Page[Escalation]:  # fmt: skip
        size = page_size(first)
        async with info.context.db.acquire() as con:
            found = await evaluation.list_escalations(
                con, state=state, kpi=kpi, before_id=decode_cursor(after), limit=size + 1
            )
        return _page(found, size, lambda e: convert(Escalation, e))


@strawberry.type(description="Statuses stored by an evaluation.")
class Evaluation:
    statuses: list[KpiStatus]


TeamResult = Annotated[Team | Problem, strawberry.union("TeamResult")]
EvaluationResult = Annotated[Evaluation | Problem, strawberry.union("EvaluationResult")]
EscalationResult = Annotated[Escalation | Problem, strawberry.union("EscalationResult")]
ServiceResult = Annotated[Service | Problem, strawberry.union("ServiceResult")]
OutcomeResult = Annotated[Outcome | Problem, strawberry.union("OutcomeResult")]
KpiResult = Annotated[Kpi | Problem, strawberry.union("KpiResult")]
TargetResult = Annotated[Target | Problem, strawberry.union("TargetResult")]
DeleteResult = Annotated[Deleted | Problem, strawberry.union("DeleteResult")]


async def _attempt(info: Info, work: Callable[[Connection], Awaitable[Any]]) -> Any:
    """Run a write in a transaction; expected failures become a Problem in the result."""
    try:
        async with info.context.db.acquire() as con, con.transaction():
            return await work(con)
    except ApiError as exc:
        return Problem.from_error(exc)
    except asyncpg.DataError as exc:
        if not blames_client(exc):
            raise  # stored data out of range: a server error, masked and logged
        log.info("value refused by the database", extra={"error": type(exc).__name__})
        return Problem.from_error(refused_value(exc))


def _model(value: Any) -> BaseModel:
    """Validate a whole input with its pydantic model at once, so a nested error keeps its
    path (escalationPath.1.address), exactly as the REST API reports it."""
    model_cls: type[BaseModel] = type(value)._pydantic_type
    try:
        return model_cls.model_validate(strawberry.asdict(value))
    except ValidationError as exc:
        raise from_pydantic(exc) from exc


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Create the team, or replace it if the slug exists.")
    async def upsert_team(self, info: Info, input: TeamInput) -> TeamResult:
        async def work(con: Connection) -> Team:
            team = _model(input)
            assert isinstance(team, models.TeamIn)
            await locks.lock_name(con, f"team:{team.slug}")
            exists = bool(await team_store.list_teams(con, slugs=[team.slug]))
            saved = await (catalog.update_team(con, slug=team.slug, team=team) if exists
                           else catalog.create_team(con, team=team))  # fmt: skip
            return Team.of(saved)

        return await _attempt(info, work)  # type: ignore[no-any-return]

    @strawberry.mutation(description="Create the service, or replace it if the slug exists.")
    async def upsert_service(self, info: Info, input: ServiceInput) -> ServiceResult:
        async def work(con: Connection) -> Service:
            svc = _model(input)
            assert isinstance(svc, models.ServiceIn)
            await locks.lock_name(con, f"service:{svc.slug}")
            exists = bool(await service_store.list_services(con, slugs=[svc.slug]))
            saved = await (catalog.update_service(con, slug=svc.slug, service=svc) if exists
                           else catalog.create_service(con, service=svc))  # fmt: skip
            return Service.of(saved)

        return await _attempt(info, work)  # type: ignore[no-any-return]

    @strawberry.mutation(description="Create the outcome, or replace it if the slug exists.")
    async def upsert_outcome(self, info: Info, input: OutcomeInput) -> OutcomeResult:
        async def work(con: Connection) -> Outcome:
            outcome = _model(input)
            assert isinstance(outcome, models.OutcomeIn)
            await locks.lock_name(con, f"outcome:{outcome.slug}")
            exists = bool(await outcome_store.list_outcomes(con, slugs=[outcome.slug]))
            saved = await (catalog.update_outcome(con, slug=outcome.slug, outcome=outcome)
                           if exists else catalog.create_outcome(con, outcome=outcome))  # fmt: skip
            return Outcome.of(saved)

        return await _attempt(info, work)  # type: ignore[no-any-return]

    @strawberry.mutation(description="Create the KPI definition, or replace it if the key exists.")
    async def upsert_kpi(self, info: Info, input: KpiInput) -> KpiResult:
        async def work(con: Connection) -> Kpi:
            kpi = _model(input)
            assert isinstance(kpi, models.KpiIn)
            await locks.lock_name(con, f"kpi:{kpi.key}")
            exists = bool(await kpi_store.list_kpis(con, keys=[kpi.key]))
            saved = await (catalog.update_kpi(con, key=kpi.key, kpi=kpi) if exists
                           else catalog.create_kpi(con, kpi=kpi))  # fmt: skip
            return Kpi.of(saved)

        return await _attempt(info, work)  # type: ignore[no-any-return]

    @strawberry.mutation
    async def create_target(self, info: Info, input: TargetInput) -> TargetResult:
        async def work(con: Connection) -> Target:
            target = _model(input)
            assert isinstance(target, models.TargetIn)
            return Target.of(await catalog.create_target(con, target=target))

        return await _attempt(info, work)  # type: ignore[no-any-return]

    @strawberry.mutation
    async def delete_target(self, info: Info, id: int) -> DeleteResult:
        async def work(con: Connection) -> Deleted:
            await catalog.delete_target(con, target_id=id)
            return Deleted(ok=True)

        return await _attempt(info, work)  # type: ignore[no-any-return]

    @strawberry.mutation(description="Link a KPI to an outcome, or change the link's weight.")
    async def link_kpi_outcome(self, info: Info, input: OutcomeLinkInput) -> KpiResult:
        async def work(con: Connection) -> Kpi:
            try:
                link = models.OutcomeLinkIn(weight=input.weight, rationale=input.rationale)
            except ValidationError as exc:
                raise from_pydantic(exc) from exc
            await catalog.link_outcome(con, kpi=input.kpi, outcome=input.outcome, link=link)
            return Kpi.of(await kpi_store.get_kpi(con, key=input.kpi))

        return await _attempt(info, work)  # type: ignore[no-any-return]

    @strawberry.mutation(description="Apply a KPI to a service.")
    async def link_kpi_service(self, info: Info, kpi: str, service: str) -> KpiResult:
        async def work(con: Connection) -> Kpi:
            await catalog.link_service(con, kpi=kpi, service=service)
            return Kpi.of(await kpi_store.get_kpi(con, key=kpi))

        return await _attempt(info, work)  # type: ignore[no-any-return]

    @strawberry.mutation
    async def delete_kpi(self, info: Info, key: str) -> DeleteResult:
        async def work(con: Connection) -> Deleted:
            await catalog.delete_kpi(con, key=key)
            return Deleted(ok=True)

        return await _attempt(info, work)  # type: ignore[no-any-return]

    @strawberry.mutation
    async def delete_service(self, info: Info, slug: str) -> DeleteResult:
        async def work(con: Connection) -> Deleted:
            await catalog.delete_service(con, slug=slug)
            return Deleted(ok=True)

        return await _attempt(info, work)  # type: ignore[no-any-return]

    @strawberry.mutation(
        description="Evaluate one KPI (or every KPI with a cadence) for the period holding "
        "`period` (default: the last closed one), store the statuses and escalate."
    )
    async def evaluate(
        self, info: Info, kpi: str | None = None, period: dt.datetime | None = None
    ) -> EvaluationResult:
        on = check_instant("period", period)
        now = info.context.now()

        async def work(con: Connection) -> Evaluation:
            out = await evaluation.evaluate_on_demand(con, kpi=kpi, on=on, cadence=None, now=now)
            return Evaluation(statuses=[convert(KpiStatus, st) for st in out])

        return await _attempt(info, work)  # type: ignore[no-any-return]

    @strawberry.mutation(description="Acknowledge an escalation: waiting steps stop.")
    async def acknowledge_escalation(
        self, info: Info, id: int, by: str, note: str | None = None
    ) -> EscalationResult:
        return await _act(info, id, "acknowledge", by, note)  # type: ignore[no-any-return]

    @strawberry.mutation(description="Resolve an escalation by hand.")
    async def resolve_escalation(
        self, info: Info, id: int, by: str, note: str | None = None
    ) -> EscalationResult:
        return await _act(info, id, "resolve", by, note)  # type: ignore[no-any-return]


async def _act(info: Info, id: int, action: str, by: str, note: str | None) -> Any:
    async def work(con: Connection) -> Escalation:
        try:
            body = EscalationAction(by=by, note=note)
        except ValidationError as exc:
            raise from_pydantic(exc) from exc
        done = await evaluation.act(con, id, action, body.by, body.note, info.context.now())
        return convert(Escalation, done)  # type: ignore[no-any-return]

    return await _attempt(info, work)


class RequireScopes(SchemaExtension):
    """Queries need the read scope (checked at the door); mutations need admin."""

    def on_execute(self) -> Iterator[None]:
        ctx = self.execution_context
        if ctx.operation_type is OperationType.MUTATION:
            principal = ctx.context.principal
            if not principal.allows(Scope.ADMIN):
                ctx.context.response.status_code = 403
                raise GraphQLError(
                    "this token lacks the 'admin' scope needed for mutations",
                    extensions={"code": "FORBIDDEN", "required_scope": "admin"},
                )
        yield


def _is_unexpected(error: GraphQLError) -> bool:
    """Errors from our own checks keep their message; anything else is masked (and logged, by
    service/graphql/error_log.py)."""
    original = error.original_error
    return not (original is None or isinstance(original, ValueError | ApiError | GraphQLError))


class _MaskErrors(MaskErrors):
    """Masks what _is_unexpected says, but a value Postgres cannot take (e.g. a NUL character
    in a slug) is the client's error: its message is the one REST answers with its 422."""

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        original = error.original_error
        if not isinstance(original, asyncpg.DataError) or not blames_client(original):
            return super().anonymise_error(error)
        refused = refused_value(original)
        return GraphQLError(
            refused.detail, nodes=error.nodes, source=error.source,
            positions=error.positions, path=error.path, original_error=refused,
        )  # fmt: skip


def build_schema(settings: Settings) -> strawberry.Schema:
    costed: GraphQLSchema | None = None

    def cost_limit() -> CostLimit:
        assert costed is not None
        return CostLimit(schema=costed, settings=settings)

    schema = LoggedSchema(
        query=Query,
        mutation=Mutation,
        execution_context_class=ExecutionContext,
        config=StrawberryConfig(scalar_map={dt.datetime: DateTime}),
        extensions=[
            RequireScopes,
            RefuseNulCharacters,
            lambda: _MaskErrors(should_mask_error=_is_unexpected),
            lambda: QueryDepthLimiter(max_depth=settings.graphql_max_depth),
            lambda: MaxAliasesLimiter(max_alias_count=settings.graphql_max_aliases),
            lambda: MaxTokensLimiter(max_token_count=settings.graphql_max_tokens),
            cost_limit,
        ],
    )
    costed = cost_schema(schema)
    return schema
