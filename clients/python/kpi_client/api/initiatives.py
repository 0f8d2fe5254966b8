"""Initiatives (technology programs): list, get, create, replace, delete, and review."""

from __future__ import annotations

from kpi_client.api.collection import EditableCollection
from kpi_client.models import Initiative, InitiativeIn, InitiativeReview
from kpi_client.operation import Body, Operation, answer

INITIATIVES = EditableCollection("/v1/initiatives", Initiative, list[Initiative], InitiativeIn)


def list_initiatives() -> Operation[list[Initiative]]:
    """Every initiative, by key."""
    return INITIATIVES.list_all()


def get_initiative(key: str) -> Operation[Initiative]:
    return INITIATIVES.get(key)


def create_initiative(
    initiative: Body[InitiativeIn], *, idempotency_key: str | None = None
) -> Operation[Initiative]:
    """Creates an initiative (admin). A duplicate key is a Conflict."""
    return INITIATIVES.create(initiative, idempotency_key)


def replace_initiative(
    key: str, initiative: Body[InitiativeIn], *, idempotency_key: str | None = None
) -> Operation[Initiative]:
    return INITIATIVES.replace(key, initiative, idempotency_key)


def delete_initiative(key: str, *, idempotency_key: str | None = None) -> Operation[None]:
    """Deletes an initiative; a Conflict while cost records carry it."""
    return INITIATIVES.delete(key, idempotency_key)


def review_initiative(key: str) -> Operation[InitiativeReview]:
    """Spend against budget, and each linked KPI before the start against after delivery."""
    return Operation("GET", f"{INITIATIVES.member(key)}/review", answer(InitiativeReview))
