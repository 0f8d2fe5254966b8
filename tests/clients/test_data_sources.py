"""Data sources and a KPI's Prometheus SLI through the async client."""

from __future__ import annotations

import pytest
from kpi_client import AsyncClient, Conflict, ValidationFailed
from kpi_client.models import DataSourceIn, KpiIn, PrometheusSli

from service.config import Settings

GOOD = 'sum(increase(http_requests_total{code!~"5.."}[$__bucket]))'
TOTAL = "sum(increase(http_requests_total[$__bucket]))"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"outbound_allow": ["127.0.0.1"]})


async def test_data_sources_are_written_read_and_used_by_a_kpi(kpi: AsyncClient) -> None:
    source = DataSourceIn(name="prom", url="http://127.0.0.1:9090", auth="bearer",
                          secret="t0ken")  # fmt: skip
    created = await kpi.create_data_source(source)
    assert (created.name, created.auth, created.has_secret) == ("prom", "bearer", True)
    with pytest.raises(ValidationFailed) as refused:
        await kpi.create_data_source(DataSourceIn(name="inside", url="http://10.1.2.3:9090"))
    assert refused.value.errors[0].pointer == "#/url"
    for key in ("good", "requests"):
        await kpi.create_kpi(KpiIn(key=key, name=key, unit="requests",
                                   direction="higher_is_better", aggregation="sum"))  # fmt: skip
    sli = PrometheusSli(data_source="prom", good_query=GOOD, total_query=TOTAL, bucket="5m")
    ratio = await kpi.create_kpi(KpiIn(
        key="success", name="Success", unit="share", direction="higher_is_better",
        kind="ratio", numerator="good", denominator="requests", prometheus=sli,
    ))  # fmt: skip
    assert ratio.prometheus == sli
    assert (await kpi.get_kpi("success")).prometheus == sli
    (listed,) = await kpi.list_data_sources()
    assert [s.kpi for s in listed.slis] == ["success"]
    assert listed.slis[0].next_bucket is None  # the first round backfills
    replaced = await kpi.replace_data_source(
        "prom", DataSourceIn(name="prom", url="http://127.0.0.1:9091", auth="bearer")
    )
    assert (replaced.url, replaced.has_secret) == ("http://127.0.0.1:9091", True)
    with pytest.raises(Conflict):
        await kpi.delete_data_source("prom")
    await kpi.delete_kpi("success")
    await kpi.delete_data_source("prom")
    assert await kpi.list_data_sources() == []
