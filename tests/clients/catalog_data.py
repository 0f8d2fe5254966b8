"""A small catalog the tests build through the client."""

from __future__ import annotations

import datetime as dt

from kpi_client import AsyncClient
from kpi_client.models import KpiIn, ServiceIn, TeamIn

UTC = dt.UTC


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=UTC)


async def make_catalog(kpi: AsyncClient) -> None:
    """Team `shop`; services checkout (tier 1) and billing (tier 2); KPIs `orders` (observed,
    sum, monthly) and `availability` (builtin)."""
    await kpi.create_team(TeamIn(slug="shop", name="Shop", email="shop@example.com"))
    await kpi.create_service(ServiceIn(slug="checkout", name="Checkout", tier=1, team="shop"))
    await kpi.create_service(
        ServiceIn(slug="billing", name="Billing", tier=2, team="shop", revenue_per_hour=1200.0)
    )
    await kpi.create_kpi(
        KpiIn(
            key="orders",
            name="Orders",
            unit="count",
            direction="higher_is_better",
            aggregation="sum",
            cadence="monthly",
            business_owner="sales@example.com",
        )
    )
    await kpi.create_kpi(
        KpiIn(
            key="availability",
            name="Availability",
            unit="percent",
            direction="higher_is_better",
            aggregation="avg",
            kind="builtin",
            metric="availability",
        )
    )
