"""Request and answer models share their fields but are not each other: an answer passed back
where a request body is expected is refused before anything is sent (the service would refuse
the `id` and other fields it assigns)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest
from kpi_client import Client, RequestInvalid
from kpi_client.models import Cost, Kpi, OutcomeLink, Service, Source, Target, Team

from tests.clients.conftest import BASE_URL

DAY = dt.date(2031, 1, 1)

#: (client method, arguments with an answer model where the request body goes, request model)
ANSWERS_AS_REQUESTS: list[tuple[str, tuple[Any, ...], str]] = [
    ("create_team", (Team(id=1, slug="ops", name="Ops"),), "TeamIn"),
    ("replace_service", ("erp", Service(id=1, slug="erp", name="ERP", tier=2)), "ServiceIn"),
    (
        "create_kpi",
        (Kpi(id=1, key="orders", name="Orders", unit="count", direction="higher_is_better"),),
        "KpiIn",
    ),
    ("create_target", (Target(id=1, kpi="orders", value=1, effective_from=DAY),), "TargetIn"),
    (
        "link_kpi_outcome",
        ("orders", "trust", OutcomeLink(kpi="orders", outcome="trust")),
        "OutcomeLinkIn",
    ),
    (
        "replace_cost",
        (
            1,
            Cost(
                id=1, category="cloud", period_start=DAY, period_end=DAY, amount=1, currency="EUR"
            ),
        ),
        "CostIn",
    ),
    (
        "create_source",
        (Source(id=1, name="gh", kind="github", has_secret=False, webhook_path="/v1/webhooks/gh"),),
        "SourceIn",
    ),
]


@pytest.mark.parametrize(
    ("method", "args", "request_model"),
    ANSWERS_AS_REQUESTS,
    ids=[c[0] for c in ANSWERS_AS_REQUESTS],
)
def test_an_answer_is_not_taken_as_a_request_body(
    method: str, args: tuple[Any, ...], request_model: str
) -> None:
    transport = httpx.MockTransport(lambda request: pytest.fail("nothing may be sent"))
    with Client(BASE_URL, "t", transport=transport) as kpi:
        with pytest.raises(RequestInvalid, match=f"body is invalid: .*{request_model}"):
            getattr(kpi, method)(*args)
