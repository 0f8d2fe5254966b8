"""Typed wrappers over sql/queries/outcomes.sql: the business outcomes KPIs contribute to."""

from __future__ import annotations

from collections.abc import Sequence

from service.db import Connection, statements
from service.errors import NotFound
from service.models.catalog import Outcome, OutcomeIn
from service.models.stored import read
from service.store.constraints import unique

q = statements("outcomes")


async def list_outcomes(con: Connection, *, slugs: Sequence[str] | None = None) -> list[Outcome]:
    return [read(Outcome, r) for r in await con.fetch(q("list_outcomes"), slugs)]


async def page_outcomes(con: Connection, *, after_id: int, limit: int) -> list[Outcome]:
    """Outcomes in creation order after `after_id`, for cursor pagination."""
    return [read(Outcome, r) for r in await con.fetch(q("page_outcomes"), after_id, limit)]


async def get_outcome(con: Connection, *, slug: str) -> Outcome:
    found = await list_outcomes(con, slugs=[slug])
    if not found:
        raise NotFound(f"no outcome {slug!r}")
    return found[0]


async def outcomes_by_id(con: Connection, ids: Sequence[int]) -> list[Outcome]:
    return [read(Outcome, r) for r in await con.fetch(q("outcomes_by_id"), list(ids))]


async def insert_outcome(con: Connection, *, outcome: OutcomeIn) -> int:
    """The new outcome's id; Conflict (409) when its slug is taken."""
    async with unique("slug", outcome.slug):
        outcome_id: int = await con.fetchval(
            q("insert_outcome"), outcome.slug, outcome.name, outcome.description, outcome.owner
        )
    return outcome_id


async def update_outcome(con: Connection, *, outcome: OutcomeIn) -> int | None:
    """The id of the outcome updated, None when there is none."""
    outcome_id: int | None = await con.fetchval(
        q("update_outcome"), outcome.slug, outcome.name, outcome.description, outcome.owner
    )
    return outcome_id


async def delete_outcome(con: Connection, *, slug: str) -> int | None:
    """The id of the outcome deleted, None when there was none."""
    outcome_id: int | None = await con.fetchval(q("delete_outcome"), slug)
    return outcome_id
