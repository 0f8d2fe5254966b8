"""The GraphQL mutations (scope admin): the catalog written through its use cases
(service.usecases.catalog, as the REST API writes it), maintenance windows and error-budget
policies (service.usecases.maintenance and deploy_gate), evaluations and escalations.

Annotations here are evaluated where they are written (no postponed annotations): the
resolvers `write_mutation` makes name their input type in theirs."""

import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

import asyncpg
import strawberry
from pydantic import BaseModel, ValidationError

from service.db import Connection
from service.errors import ApiError, blames_client, from_pydantic, refused_value
from service.graphql.inputs import OutcomeLinkInput, input_of
from service.graphql.types.burn_alert import BurnPolicy
from service.graphql.types.common import Deleted, Info, Problem
from service.graphql.types.deploy_gate import ErrorBudgetPolicy, MaintenanceWindow
from service.graphql.types.initiative import Initiative
from service.graphql.types.kpi import Kpi, Target
from service.graphql.types.outcome import Outcome
from service.graphql.types.reports import Escalation, KpiStatus, convert
from service.graphql.types.service import Service
from service.graphql.types.team import Team
from service.models import catalog as models
from service.models.audit import Actor, AuditVia
from service.models.burn_alerts import BurnPolicyIn, BurnRuleIn
from service.models.deploy_gate import ErrorBudgetPolicyIn
from service.models.instants import check_instant
from service.models.maintenance import MaintenanceWindowIn
from service.models.statuses import EscalationAction
from service.usecases import (
    audit,
    burn_alerts,
    catalog,
    deploy_gate,
    escalation,
    evaluation,
    maintenance,
)
from service.usecases.catalog import Collection
from service.usecases.initiatives import INITIATIVES

log = logging.getLogger(__name__)
M = TypeVar("M", bound=BaseModel)
Row = TypeVar("Row", bound=BaseModel)
N = TypeVar("N")


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
InitiativeResult = Annotated[Initiative | Problem, strawberry.union("InitiativeResult")]
DeleteResult = Annotated[Deleted | Problem, strawberry.union("DeleteResult")]
BurnPolicyResult = Annotated[BurnPolicy | Problem, strawberry.union("BurnPolicyResult")]
BurnRuleInput = input_of(BurnRuleIn)
WindowResult = Annotated[MaintenanceWindow | Problem, strawberry.union("MaintenanceWindowResult")]
PolicyResult = Annotated[ErrorBudgetPolicy | Problem, strawberry.union("ErrorBudgetPolicyResult")]
WindowInput = input_of(MaintenanceWindowIn)
PolicyInput = input_of(ErrorBudgetPolicyIn)
#: What the maintenance window mutations say of the rules the database keeps.
IMMUTABLE = (
    "It must start after now, and cannot be changed or cancelled once started (a Problem "
    "409 naming the field)."
)


@strawberry.input(description="A KPI's burn-rate policy: its objective and rules.")
class BurnPolicyInput:
    objective: float | None = strawberry.field(
        default=None, description="A share, e.g. 0.999; null: the KPI's global target."
    )
    rules: list[BurnRuleInput] | None = strawberry.field(  # type: ignore[valid-type]
        default=None, description="Null: the SRE workbook's three rules."
    )


async def _attempt(info: Info, work: Callable[[Connection], Awaitable[Any]]) -> Any:
    """Run a write in a transaction, recorded in the audit trail as the caller's; expected
    failures become a Problem in the result."""
    principal = info.context.principal
    try:
        with audit.acting(Actor(principal.name, principal.token_id), AuditVia.GRAPHQL):
            async with info.context.db.acquire() as con, con.transaction():
                return await work(con)
    except ApiError as exc:
        return Problem.from_error(exc)
    except asyncpg.DataError as exc:
        if not blames_client(exc):
            raise  # stored data out of range: a server error, masked and logged
        log.info("value refused by the database", extra={"error": type(exc).__name__})
        return Problem.from_error(refused_value(exc))


def _model(model: type[M], value: Any) -> M:
    """Validate a whole input with its pydantic model at once, so a nested error keeps its
    path (escalationPath.1.address), exactly as the REST API reports it."""
    try:
        return model.model_validate(strawberry.asdict(value))
    except ValidationError as exc:
        raise from_pydantic(exc) from exc


def write_mutation(
    model_in: type[M], write: Callable[[Connection, M], Awaitable[Row]],
    wrap: Callable[[Row], Any], result: Any, description: str | None = None,
) -> Any:  # fmt: skip
    """A mutation taking one `input` of the input type of `model_in`: validated by that model,
    written by `write`, whose row `wrap` answers (a Problem for an expected failure)."""
    input_type = input_of(model_in)

    async def resolve(
        info: Info, input: Annotated[Any, strawberry.argument(graphql_type=input_type)]
    ) -> Any:
        async def work(con: Connection) -> Any:
            return wrap(await write(con, _model(model_in, input)))

        return await _attempt(info, work)

    return strawberry.mutation(resolver=resolve, graphql_type=result, description=description)


def upsert_mutation(
    items: Collection[M, Row], wrap: Callable[[Row], Any], result: Any, what: str
) -> Any:
    """The mutation creating `what` (an item of `items`), or replacing it if its key exists
    (catalog.Collection.upsert)."""
    description = f"Create the {what}, or replace it if the {items.key} exists."
    return write_mutation(items.model_in, items.upsert, wrap, result, description)


async def _delete(info: Info, items: Collection[Any, Any], key: str) -> Deleted | Problem:
    async def work(con: Connection) -> Deleted:
        await items.delete(con, key)
        return Deleted(ok=True)

    return await _attempt(info, work)  # type: ignore[no-any-return]


@strawberry.type
class Mutation:
    upsert_team = upsert_mutation(catalog.TEAMS, Team.of, TeamResult, "team")
    upsert_service = upsert_mutation(catalog.SERVICES, Service.of, ServiceResult, "service")
    upsert_outcome = upsert_mutation(catalog.OUTCOMES, Outcome.of, OutcomeResult, "outcome")
    upsert_kpi = upsert_mutation(catalog.KPIS, Kpi.of, KpiResult, "KPI definition")
    upsert_initiative = upsert_mutation(INITIATIVES, Initiative.of, InitiativeResult, "initiative")
    create_target = write_mutation(models.TargetIn, catalog.create_target, Target.of, TargetResult)

    @strawberry.mutation
    async def delete_target(self, info: Info, id: int) -> DeleteResult:
        async def work(con: Connection) -> Deleted:
            await catalog.delete_target(con, id)
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
            return Kpi.of(await catalog.KPIS.get(con, input.kpi))

        return await _attempt(info, work)  # type: ignore[no-any-return]

    @strawberry.mutation(description="Apply a KPI to a service.")
    async def link_kpi_service(self, info: Info, kpi: str, service: str) -> KpiResult:
        async def work(con: Connection) -> Kpi:
            await catalog.link_service(con, kpi=kpi, service=service)
            return Kpi.of(await catalog.KPIS.get(con, kpi))

        return await _attempt(info, work)  # type: ignore[no-any-return]

    @strawberry.mutation
    async def delete_kpi(self, info: Info, key: str) -> DeleteResult:
        return await _delete(info, catalog.KPIS, key)

    @strawberry.mutation
    async def delete_service(self, info: Info, slug: str) -> DeleteResult:
        return await _delete(info, catalog.SERVICES, slug)

    @strawberry.mutation
    async def delete_initiative(self, info: Info, key: str) -> DeleteResult:
        return await _delete(info, INITIATIVES, key)

    @strawberry.mutation(
        description="Set the KPI's burn-rate policy (its objective and rules), replacing any; "
        "rules left out: the SRE workbook's three."
    )
    async def set_burn_policy(
        self, info: Info, kpi: str,
        input: BurnPolicyInput,
    ) -> BurnPolicyResult:  # fmt: skip
        async def work(con: Connection) -> BurnPolicy:
            given = {k: v for k, v in strawberry.asdict(input).items() if v is not None}
            try:
                policy = BurnPolicyIn.model_validate(given)
            except ValidationError as exc:
                raise from_pydantic(exc) from exc
            stored = await burn_alerts.set_policy(
                con, kpi=kpi, policy=policy, now=info.context.now()
            )
            return convert(BurnPolicy, stored)  # type: ignore[no-any-return]

        return await _attempt(info, work)  # type: ignore[no-any-return]

    @strawberry.mutation(description="Remove the KPI's burn-rate policy.")
    async def delete_burn_policy(self, info: Info, kpi: str) -> DeleteResult:
        async def work(con: Connection) -> Deleted:
            await burn_alerts.delete_policy(con, kpi=kpi)
            return Deleted(ok=True)

        return await _attempt(info, work)  # type: ignore[no-any-return]

    @strawberry.mutation(
        description="Announce planned downtime for the service: outage inside the window is "
        "left out of availability and the error budget. " + IMMUTABLE
    )
    async def announce_maintenance_window(
        self, info: Info, service: str,
        input: WindowInput,  # type: ignore[valid-type]
    ) -> WindowResult:  # fmt: skip
        async def work(con: Connection) -> MaintenanceWindow:
            window = _model(MaintenanceWindowIn, input)
            return MaintenanceWindow.of(await maintenance.create_window(
                con, service=service, window=window, created_by=info.context.principal.name,
                now=info.context.now(),
            ))  # fmt: skip

        return await _attempt(info, work)  # type: ignore[no-any-return]

    @strawberry.mutation(
        description="Change a maintenance window that has not started. " + IMMUTABLE
    )
    async def change_maintenance_window(
        self, info: Info, id: int,
        input: WindowInput,  # type: ignore[valid-type]
    ) -> WindowResult:  # fmt: skip
        async def work(con: Connection) -> MaintenanceWindow:
            window = _model(MaintenanceWindowIn, input)
            changed = await maintenance.replace_window(con, id, window, info.context.now())
            return MaintenanceWindow.of(changed)

        return await _attempt(info, work)  # type: ignore[no-any-return]

    @strawberry.mutation(
        description="Cancel (delete) a maintenance window that has not started. " + IMMUTABLE
    )
    async def cancel_maintenance_window(self, info: Info, id: int) -> DeleteResult:
        async def work(con: Connection) -> Deleted:
            await maintenance.delete_window(con, id, info.context.now())
            return Deleted(ok=True)

        return await _attempt(info, work)  # type: ignore[no-any-return]

    @strawberry.mutation(
        description="Set the service's error-budget policy (what its deploy gate watches and "
        "when it freezes), replacing any."
    )
    async def set_error_budget_policy(
        self, info: Info, service: str,
        input: PolicyInput,  # type: ignore[valid-type]
    ) -> PolicyResult:  # fmt: skip
        async def work(con: Connection) -> ErrorBudgetPolicy:
            policy = _model(ErrorBudgetPolicyIn, input)
            stored = await deploy_gate.put_policy(con, service=service, policy=policy)
            return ErrorBudgetPolicy.of(stored)

        return await _attempt(info, work)  # type: ignore[no-any-return]

    @strawberry.mutation(description="Remove the service's error-budget policy: its gate allows.")
    async def delete_error_budget_policy(self, info: Info, service: str) -> DeleteResult:
        async def work(con: Connection) -> Deleted:
            await deploy_gate.delete_policy(con, service=service)
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
        done = await escalation.act(con, id, action, body.by, body.note, info.context.now())
        return convert(Escalation, done)  # type: ignore[no-any-return]

    return await _attempt(info, work)
