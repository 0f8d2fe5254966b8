"""REST for initiatives (technology programs) under /v1/initiatives: CRUD like the catalog's
other collections, and each initiative's review."""

from __future__ import annotations

from service.models.enums import Scope
from service.models.initiatives import InitiativeReview
from service.rest.catalog import crud
from service.rest.endpoint import Call, Endpoint, on_connection, path_param
from service.usecases import initiatives
from service.usecases.initiatives import INITIATIVES


async def review_initiative(call: Call) -> InitiativeReview:
    return await on_connection(
        call, initiatives.review, key=path_param(call, "key"), now=call.now(),
        min_periods=call.settings.initiative_min_periods,
    )  # fmt: skip


ENDPOINTS: list[Endpoint] = [
    *crud(INITIATIVES, tag="initiatives", base="/v1/initiatives", noun="initiative"),
    Endpoint(
        "GET", "/v1/initiatives/{key}/review", review_initiative, Scope.READ,
        "Review an initiative: spend against budget, KPIs before and after", "initiatives",
        response=InitiativeReview, errors=(404,),
        description="Spend: the cost records carrying the initiative, in the budget's currency "
        "against the budget (other currencies listed apart, never converted). Per linked KPI, "
        "at its cadence (monthly when it has none): the baseline window of `review_periods` "
        "whole periods ending where the period holding started_on begins, and as many whole "
        "periods from the first period boundary at or after delivered_on, each the mean of "
        "its complete periods' values; the change (after - baseline), whether it met the "
        "expected change (its direction, by at least its size) and a caveat when either side "
        "has fewer periods with data than KPI_INITIATIVE_MIN_PERIODS (default 3), when it is "
        "not delivered, or when the after window has not ended.",
        replica_reads=True,
    ),
]  # fmt: skip
