"""Data sources (Prometheus servers) that ratio KPIs take SLIs from (admin)."""

from __future__ import annotations

from kpi_client.api.collection import EditableCollection
from kpi_client.models import DataSource, DataSourceIn
from kpi_client.operation import Body, Operation

DATA_SOURCES = EditableCollection("/v1/data-sources", DataSource, list[DataSource], DataSourceIn)


def list_data_sources() -> Operation[list[DataSource]]:
    """Every data source with its SLIs' state (secrets are never returned)."""
    return DATA_SOURCES.list_all()


def get_data_source(name: str) -> Operation[DataSource]:
    return DATA_SOURCES.get(name)


def create_data_source(
    source: Body[DataSourceIn], *, idempotency_key: str | None = None
) -> Operation[DataSource]:
    """Registers a Prometheus server; its host must be public or in KPI_OUTBOUND_ALLOW."""
    return DATA_SOURCES.create(source, idempotency_key)


def replace_data_source(
    name: str, source: Body[DataSourceIn], *, idempotency_key: str | None = None
) -> Operation[DataSource]:
    """Replaces a data source's settings; without `secret` the current one is kept."""
    return DATA_SOURCES.replace(name, source, idempotency_key)


def delete_data_source(name: str, *, idempotency_key: str | None = None) -> Operation[None]:
    """Deletes a data source no KPI's SLI uses."""
    return DATA_SOURCES.delete(name, idempotency_key)
