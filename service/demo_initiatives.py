"""The demo's two initiatives, dated from the day the demo is loaded so their reviews always
fall inside the demo year: patch automation (delivered five months ago, lifting erp's patch
compliance) and a resilience program (delivered four months ago). Their spend is the demo's
own cost records of the services and category each one paid for while it ran."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from service.models.costs import CostIn
from service.models.enums import InitiativeStatus
from service.models.initiatives import InitiativeIn, InitiativeKpiIn

#: Points erp's patch compliance gains once patching is automated.
PATCH_LIFT = 2.0


def month_day(today: dt.date, months_back: int, day: int) -> dt.date:
    """The `day` of the month `months_back` months before today's."""
    index = today.year * 12 + today.month - 1 - months_back
    return dt.date(index // 12, index % 12 + 1, day)


def patch_automation_delivered(today: dt.date) -> dt.date:
    return month_day(today, 5, 15)


def demo_initiatives(today: dt.date) -> list[InitiativeIn]:
    patching = InitiativeIn(
        key="patch-automation", name="Automated patching", owner="platform-lead@example.com",
        sponsor="cio@example.com", status=InitiativeStatus.DELIVERED,
        started_on=month_day(today, 8, 10), delivered_on=patch_automation_delivered(today),
        budget=60_000, currency="EUR",
        services=["data-warehouse", "erp"],
        kpis=[
            InitiativeKpiIn(kpi="patch_compliance", service="erp", expected_change=1.5,
                            rationale="Patches roll out unattended in the maintenance window."),
            InitiativeKpiIn(kpi="manual_hours_removed", expected_change=10,
                            rationale="No more hand-run patch nights."),
        ],
    )  # fmt: skip
    resilience = InitiativeIn(
        key="resilience-program", name="Resilience program", owner="cto@example.com",
        sponsor="cfo@example.com", status=InitiativeStatus.DELIVERED,
        started_on=month_day(today, 7, 4), delivered_on=month_day(today, 4, 19),
        budget=250_000, currency="EUR", services=["checkout", "payments-api"],
        kpis=[
            InitiativeKpiIn(kpi="service_availability", expected_change=0.05,
                            rationale="Active-active checkout and payments in two regions."),
            InitiativeKpiIn(kpi="incident_mttr", expected_change=-30,
                            rationale="Automated failover instead of a manual switch."),
        ],
    )  # fmt: skip
    return [patching, resilience]


#: Which of the demo's cost records each initiative paid: its services' records of a category.
SPEND = {
    "patch-automation": ({"erp", "data-warehouse"}, "support"),
    "resilience-program": ({"checkout", "payments-api"}, "cloud"),
}


def with_initiatives(
    records: Sequence[CostIn], initiatives: Sequence[InitiativeIn]
) -> list[CostIn]:
    """The records, those an initiative paid carrying its key: the records of its services
    and category for the months from the one it started in to the one before delivery."""
    out = []
    for record in records:
        for initiative in initiatives:
            services, category = SPEND[initiative.key]
            assert initiative.delivered_on is not None
            if (
                record.service in services and record.category == category
                and initiative.started_on.replace(day=1) <= record.period_start
                and record.period_start < initiative.delivered_on.replace(day=1)
            ):  # fmt: skip
                record = record.model_copy(update={"initiative": initiative.key})
        out.append(record)
    return out
