"""The Backstage facts endpoint, which a Tech Insights fact retriever calls on a schedule."""

from __future__ import annotations

from service.models.backstage import BackstageFacts
from service.models.enums import Scope
from service.rest.endpoint import Call, Endpoint, on_connection
from service.usecases import backstage


async def backstage_facts(call: Call) -> BackstageFacts:
    return await on_connection(call, backstage.facts)


ENDPOINTS = [
    Endpoint("GET", "/v1/backstage/facts", backstage_facts, Scope.READ,
             "KPI facts per Backstage entity", "backstage", response=BackstageFacts, etag=True,
             description="Per business service, by its Backstage entity reference, each KPI "
             "applying to it as facts named `<kpi key>_<field>`: its latest stored status, "
             "value, target, unit and period, each typed in `fact_schema` as a Tech Insights "
             "fact schema types it. Send the ETag back in If-None-Match: while no fact "
             "changed, the answer is 304 Not Modified with no body."),
]  # fmt: skip
