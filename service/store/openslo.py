"""Typed wrappers over sql/queries/openslo.sql: the OpenSLO documents kept beside KPIs and
services, by KPI key and service slug."""

from __future__ import annotations

from typing import Any

from service.db import Connection, statements

q = statements("openslo")


async def slo_documents(con: Connection) -> dict[str, dict[str, Any]]:
    return {r["name"]: r["document"] for r in await con.fetch(q("slo_documents"))}


async def save_slo_document(con: Connection, *, kpi: str, document: dict[str, Any]) -> None:
    await con.execute(q("save_slo_document"), kpi, document)


async def service_documents(con: Connection) -> dict[str, dict[str, Any]]:
    return {r["name"]: r["document"] for r in await con.fetch(q("service_documents"))}


async def save_service_document(con: Connection, *, service: str, document: dict[str, Any]) -> None:
    await con.execute(q("save_service_document"), service, document)
