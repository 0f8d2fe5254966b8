"""Data sources (Prometheus servers) that KPIs take their SLIs from: admin only, secrets
never returned."""

from __future__ import annotations

from service.background import allow_list
from service.models.data_sources import DataSource, DataSourceIn
from service.models.enums import Scope
from service.rest.endpoint import Call, Endpoint, in_transaction, on_connection, path_param
from service.usecases import data_sources


async def list_data_sources(call: Call) -> list[DataSource]:
    return await on_connection(call, data_sources.list_data_sources)


async def get_data_source(call: Call) -> DataSource:
    return await on_connection(call, data_sources.get_data_source, path_param(call, "name"))


async def create_data_source(call: Call) -> DataSource:
    return await in_transaction(
        call, data_sources.create_data_source, call.body, allow=allow_list(call.settings)
    )


async def replace_data_source(call: Call) -> DataSource:
    return await in_transaction(
        call, data_sources.replace_data_source, path_param(call, "name"), call.body,
        allow=allow_list(call.settings),
    )  # fmt: skip


async def delete_data_source(call: Call) -> None:
    await in_transaction(call, data_sources.delete_data_source, path_param(call, "name"))


DATA_SOURCE = "/v1/data-sources/{name}"
CREATE_DOC = (
    "A Prometheus server that ratio KPIs take good and total events from (the KPI's "
    "`prometheus` field). Its URL must be public or its host named in KPI_OUTBOUND_ALLOW: "
    "one that is not is refused with a 422 on `url` (and checked again at each query). The "
    "secret (bearer token or basic-auth password) is write-only."
)
ENDPOINTS = [
    Endpoint("GET", "/v1/data-sources", list_data_sources, Scope.ADMIN,
             "List data sources (no secrets), with their SLIs' state", "datasources",
             response=list[DataSource]),
    Endpoint("GET", DATA_SOURCE, get_data_source, Scope.ADMIN, "Get a data source",
             "datasources", response=DataSource, errors=(404,)),
    Endpoint("POST", "/v1/data-sources", create_data_source, Scope.ADMIN,
             "Register a data source", "datasources", body=DataSourceIn, response=DataSource,
             status=201, errors=(409, 413, 415, 422), description=CREATE_DOC),
    Endpoint("PUT", DATA_SOURCE, replace_data_source, Scope.ADMIN,
             "Replace a data source's settings (omit secret to keep it)", "datasources",
             body=DataSourceIn, response=DataSource, errors=(404, 413, 415, 422)),
    Endpoint("DELETE", DATA_SOURCE, delete_data_source, Scope.ADMIN, "Delete a data source",
             "datasources", status=204, errors=(404, 409),
             description="Refused (409) while a KPI's SLI uses it."),
]  # fmt: skip
