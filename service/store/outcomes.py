"""Typed wrappers over sql/queries/outcomes.sql: the business outcomes KPIs contribute to."""

from __future__ import annotations

from collections.abc import Sequence

from service.db import Connection, fetch_models, one_found, statements
from service.models.catalog import Outcome, OutcomeIn
from service.store.constraints import unique

q = statements("outcomes")


async def list_outcomes(con: Connection, *, slugs: Sequence[str] | None = None) -> list[Outcome]:
    return await fetch_models(con, Outcome, q("list_outcomes"), slugs)


async def page_outcomes(con: Connection, *, after_id: int, limit: int) -> list[Outcome]:
    """Outcomes in creation order after `after_id`, for cursor pagination."""
    return await fetch_models(con, Outcome, q("page_outcomes"), after_id, limit)


async def get_outcome(con: Connection, *, slug: str) -> Outcome:
    return one_found(await list_outcomes(con, slugs=[slug]), f"no outcome {slug!r}")


async def outcomes_by_id(con: Connection, ids: Sequence[int]) -> list[Outcome]:
    return await fetch_models(con, Outcome, q("outcomes_by_id"), list(ids))


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
