"""Catalog apply, tokens, sources, the delivery log with replay, health and GraphQL."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from kpi_client import (
    AsyncClient,
    Conflict,
    Forbidden,
    GraphQLError,
    NotFound,
    TransportError,
    Unauthorized,
)
from kpi_client.api.graphql import is_mutation
from kpi_client.models import CatalogFile, ServiceRule, SourceIn

from tests.clients.catalog_data import make_catalog
from tests.clients.conftest import BASE_URL, Headers, async_client
from tests.clients.transports import AsyncFlaky

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "webhooks"
AM_FIRING = FIXTURES / "alertmanager" / "firing" / "alertmanager-bot_firing_sh_body.json"

CATALOG = {
    "teams": [{"slug": "shop", "name": "Shop"}],
    "services": [{"slug": "checkout", "name": "Checkout", "tier": 1, "team": "shop"}],
    "outcomes": [{"slug": "revenue", "name": "Revenue"}],
    "kpis": [
        {
            "key": "orders",
            "name": "Orders",
            "unit": "count",
            "direction": "higher_is_better",
            "aggregation": "sum",
            "cadence": "monthly",
            "targets": [{"value": 100, "effective_from": "2031-01-01"}],
            "outcomes": [{"outcome": "revenue", "weight": 2}],
            "services": ["checkout"],
        }
    ],
}


async def test_apply_catalog_dry_run_then_apply_then_unchanged(kpi: AsyncClient) -> None:
    planned = await kpi.apply_catalog(CATALOG, dry_run=True)
    assert planned.dry_run is True
    assert {(c.action, c.kind, c.key) for c in planned.changes} >= {
        ("create", "team", "shop"),
        ("create", "service", "checkout"),
        ("create", "kpi", "orders"),
    }
    assert await kpi.list_teams() == []
    applied = await kpi.apply_catalog(CatalogFile.model_validate(CATALOG))
    assert applied.dry_run is False and len(applied.changes) == len(planned.changes)
    assert [t.value for t in await kpi.list_targets(kpi="orders")] == [100.0]
    assert [link.weight for link in await kpi.list_kpi_outcomes("orders")] == [2.0]
    again = await kpi.apply_catalog(CATALOG)
    assert again.changes == [] and again.unchanged > 0
    renamed = {**CATALOG, "teams": [{"slug": "shop", "name": "Shop Team"}]}
    update = await kpi.apply_catalog(renamed)
    (change,) = update.changes
    assert (change.action, change.key, change.fields) == (
        "update",
        "shop",
        {"name": ["Shop", "Shop Team"]},
    )


async def test_tokens(kpi: AsyncClient, asgi: httpx.ASGITransport) -> None:
    created = await kpi.create_token("ci", ["ingest"])
    assert created.token and created.scopes == ["ingest"] and created.revoked_at is None
    listed = {t.id: t for t in await kpi.list_tokens()}
    assert listed[created.id].name == "ci" and not hasattr(listed[created.id], "token")
    async with async_client(asgi, {"Authorization": f"Bearer {created.token}"}) as ci:
        assert await ci.ingest_observations([]) is not None
        await kpi.revoke_token(created.id)
        with pytest.raises(Unauthorized):
            await ci.ingest_observations([])
    assert {t.id: t for t in await kpi.list_tokens()}[created.id].revoked_at is not None


async def test_sources(kpi: AsyncClient) -> None:
    await make_catalog(kpi)
    created = await kpi.create_source(
        SourceIn(
            name="pd",
            kind="pagerduty",
            secret="s3cret",
            severity_map={"P1": "sev1"},
            service_rules=[ServiceRule(match={"ref": "Checkout API"}, service="checkout")],
        )
    )
    assert (created.kind, created.has_secret, created.webhook_path) == (
        "pagerduty",
        True,
        "/v1/webhooks/pd",
    )
    assert "s3cret" not in repr(SourceIn(name="x", kind="api", secret="s3cret"))
    assert await kpi.get_source("pd") == created
    kept = await kpi.replace_source("pd", {"name": "pd", "kind": "pagerduty", "infer_links": False})
    assert (kept.has_secret, kept.infer_links, kept.service_rules) == (True, False, [])
    assert {s.name for s in await kpi.list_sources()} == {"api", "pd"}
    await kpi.delete_source("pd")
    with pytest.raises(NotFound):
        await kpi.get_source("pd")


async def test_deliveries_and_replay(kpi: AsyncClient, asgi: httpx.ASGITransport) -> None:
    await make_catalog(kpi)
    await kpi.create_source({"name": "am", "kind": "alertmanager", "secret": "am-secret"})
    async with httpx.AsyncClient(transport=asgi, base_url=BASE_URL) as tool:
        sent = await tool.post(
            "/v1/webhooks/am",
            content=AM_FIRING.read_bytes(),
            headers={"Authorization": "Bearer am-secret", "Content-Type": "application/json"},
        )
    assert sent.status_code == 202, sent.text
    delivery_id = json.loads(sent.content)["delivery_id"]

    (row,) = await kpi.list_deliveries(status="unmapped", source="am")
    assert (row.id, row.source, row.status) == (delivery_id, "am", "unmapped")
    detail = await kpi.get_delivery(delivery_id)
    assert detail.body is not None and "Something is on fire" in detail.body
    assert "authorization" not in detail.headers

    still = await kpi.replay_delivery(delivery_id)
    assert (still.delivery_id, still.status) == (delivery_id, "unmapped")
    assert still.detail
    report = await kpi.replay_unmapped(source="am")
    assert (report.applied, report.still_unmapped) == ([], [delivery_id])

    rule = {"match": {"alertname": "Fire"}, "service": "checkout"}
    await kpi.replace_source("am", {"name": "am", "kind": "alertmanager", "service_rules": [rule]})
    applied = await kpi.replay_delivery(delivery_id)
    assert (applied.status, len(applied.incidents)) == ("applied", 1)
    incident = await kpi.get_incident(applied.incidents[0])
    assert (incident.source, incident.service) == ("am", "checkout")
    assert await kpi.list_deliveries(status="unmapped") == []
    assert [d.id for d in await kpi.list_deliveries(before=delivery_id + 1, limit=1)] == [
        delivery_id
    ]


async def test_an_unmapped_delivery_is_discarded(
    kpi: AsyncClient, asgi: httpx.ASGITransport
) -> None:
    await make_catalog(kpi)
    await kpi.create_source({"name": "am", "kind": "alertmanager", "secret": "am-secret"})
    async with httpx.AsyncClient(transport=asgi, base_url=BASE_URL) as tool:
        sent = await tool.post(
            "/v1/webhooks/am", content=AM_FIRING.read_bytes(),
            headers={"Authorization": "Bearer am-secret", "Content-Type": "application/json"},
        )  # fmt: skip
    delivery_id = json.loads(sent.content)["delivery_id"]
    await kpi.discard_delivery(delivery_id)
    (row,) = await kpi.list_deliveries(status="discarded")
    assert (row.id, row.status, row.body_bytes) == (delivery_id, "discarded", None)
    with pytest.raises(Conflict):
        await kpi.discard_delivery(delivery_id)


async def test_webhook_rejections_and_a_source_opened_to_the_api(
    kpi: AsyncClient, asgi: httpx.ASGITransport
) -> None:
    await make_catalog(kpi)
    created = await kpi.create_source({"name": "am", "kind": "alertmanager", "secret": "s"})
    assert created.open_to_api is False
    async with httpx.AsyncClient(transport=asgi, base_url=BASE_URL) as stranger:
        sent = await stranger.post(
            "/v1/webhooks/am", content=AM_FIRING.read_bytes(),
            headers={"Authorization": "Bearer wrong", "Content-Type": "application/json"},
        )  # fmt: skip
    assert sent.status_code == 401, sent.text
    (record,) = await kpi.list_webhook_rejections(source="am")
    assert (record.source, record.kind, record.reason, record.count) == (
        "am", "alertmanager", "signature", 1
    )  # fmt: skip
    (sample,) = record.samples
    assert sample.client == "127.0.0.1" and "authorization" not in sample.headers
    assert await kpi.list_webhook_rejections(source="nobody") == []

    incident = {"source": "am", "external_id": "A-1", "service": "checkout"}
    with pytest.raises(Forbidden) as refused:
        await kpi.upsert_incident(incident)
    assert [e.field for e in refused.value.errors] == ["source"]
    opened = await kpi.replace_source(
        "am", SourceIn(name="am", kind="alertmanager", open_to_api=True)
    )
    assert opened.open_to_api is True
    assert (await kpi.upsert_incident(incident)).source == "am"


async def test_health_and_readiness(asgi: httpx.ASGITransport) -> None:
    async with AsyncClient(BASE_URL, transport=asgi) as anonymous:
        assert (await anonymous.health()).status == "ok"
        assert (await anonymous.ready()).status == "ready"


async def test_prometheus_metrics(kpi: AsyncClient) -> None:
    await make_catalog(kpi)
    text = await kpi.metrics()
    assert "# TYPE" in text and "kpi_" in text


async def test_graphql(kpi: AsyncClient) -> None:
    await make_catalog(kpi)
    data = await kpi.graphql(
        "query($slug: String!) { service(slug: $slug) { slug tier team { name } } }",
        {"slug": "billing"},
    )
    assert data == {"service": {"slug": "billing", "tier": 2, "team": {"name": "Shop"}}}
    with pytest.raises(GraphQLError) as caught:
        await kpi.graphql("{ noSuchField }")
    assert "noSuchField" in str(caught.value) and caught.value.errors


async def test_graphql_mutation_is_not_resent_once_it_may_have_arrived(
    kpi: AsyncClient, asgi: httpx.ASGITransport, admin: Headers
) -> None:
    flaky = AsyncFlaky(asgi, ["connect-after"])
    async with async_client(flaky, admin) as client:
        with pytest.raises(TransportError):
            await client.graphql(
                "mutation($t: TeamInput!) { upsertTeam(input: $t) { __typename } }",
                {"t": {"slug": "ops", "name": "Ops"}},
            )
        assert flaky.plan.calls == 1
        flaky.plan.faults = ["connect-after"]
        data = await client.graphql("{ teams { nodes { slug } } }")
    assert data == {"teams": {"nodes": [{"slug": "ops"}]}}
    assert flaky.plan.calls == 3
    assert is_mutation("# a comment\nmutation M { x }") and not is_mutation("query { a }")
