"""Teams under parent teams: the parent read and written through REST and the catalog file, an
unknown parent and a cycle refused naming `parent`, a team with sub-teams not deleted; and the
ownership history a change of a service's team writes (`team_since`)."""

from __future__ import annotations

from typing import Any

import httpx

from service import db as dbmod
from service.usecases.catalog_file import CatalogFile, apply_catalog, parents_first
from tests.usecases.test_reports import Headers, send


async def add_team(
    client: httpx.AsyncClient, admin: Headers, slug: str, parent: str | None = None,
    *, status: int = 201,
) -> Any:  # fmt: skip
    body = {"slug": slug, "name": slug.title(), "parent": parent}
    return await send(client, admin, "POST", "/v1/teams", body, status=status)


def fields(problem: dict[str, Any]) -> list[str]:
    return [e["field"] for e in problem["errors"]]


async def test_a_team_reads_back_its_parent_and_lists_show_it(
    client: httpx.AsyncClient, admin: Headers, reader: Headers
) -> None:
    await add_team(client, admin, "org")
    created = await add_team(client, admin, "dept", "org")
    assert created["parent"] == "org"
    got = await send(client, reader, "GET", "/v1/teams/dept", status=200)
    assert (got["parent"], got["slug"]) == ("org", "dept")
    listed = await send(client, reader, "GET", "/v1/teams", status=200)
    assert {t["slug"]: t["parent"] for t in listed} == {"org": None, "dept": "org"}
    # Moved to the top: parent null.
    moved = await send(client, admin, "PUT", "/v1/teams/dept",
                       {"slug": "dept", "name": "Dept", "parent": None}, status=200)  # fmt: skip
    assert moved["parent"] is None


async def test_unknown_parent_and_cycles_are_422_naming_parent(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    problem = await add_team(client, admin, "dept", "nowhere", status=422)
    assert fields(problem) == ["parent"]
    await add_team(client, admin, "org")
    await add_team(client, admin, "dept", "org")
    await add_team(client, admin, "team-a", "dept")
    # org under team-a: org > dept > team-a > org would be a cycle; so is a team its own
    # parent.
    for slug, parent in (("org", "team-a"), ("dept", "dept")):
        body = {"slug": slug, "name": slug.title(), "parent": parent}
        problem = await send(client, admin, "PUT", f"/v1/teams/{slug}", body, status=422)
        assert fields(problem) == ["parent"], problem
        assert "cycle" in problem["detail"]
    got = await send(client, admin, "GET", "/v1/teams/org", status=200)
    assert got["parent"] is None


async def test_a_team_with_sub_teams_is_not_deleted(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    await add_team(client, admin, "org")
    await add_team(client, admin, "dept", "org")
    await send(client, admin, "DELETE", "/v1/teams/org", status=409)
    await send(client, admin, "DELETE", "/v1/teams/dept", status=204)
    await send(client, admin, "DELETE", "/v1/teams/org", status=204)


def test_a_catalog_file_writes_parents_before_their_teams() -> None:
    file = CatalogFile.model_validate({"teams": [
        {"slug": "team-a", "name": "A", "parent": "dept"},
        {"slug": "dept", "name": "D", "parent": "org"},
        {"slug": "solo", "name": "S", "parent": "elsewhere"},
        {"slug": "org", "name": "O"},
    ]})  # fmt: skip
    # org (3) first, then dept (1), then team-a (0); solo's parent is not in the file.
    assert parents_first(file.teams) == [3, 1, 0, 2]


async def test_catalog_apply_sets_parents_in_any_order_of_the_file(
    con: dbmod.Connection,
) -> None:
    file = CatalogFile.model_validate({"teams": [
        {"slug": "team-a", "name": "A", "parent": "dept"},
        {"slug": "dept", "name": "D", "parent": "org"},
        {"slug": "org", "name": "O"},
    ]})  # fmt: skip
    report = await apply_catalog(con, file, dry_run=False)
    assert [(c.action, c.key) for c in report.changes] == [
        ("create", "org"), ("create", "dept"), ("create", "team-a")]  # fmt: skip
    again = await apply_catalog(con, file, dry_run=False)
    assert (again.changes, again.unchanged) == ([], 3)
    moved = CatalogFile.model_validate({"teams": [{"slug": "team-a", "name": "A",
                                                   "parent": "org"}]})  # fmt: skip
    report = await apply_catalog(con, moved, dry_run=False)
    assert [(c.action, c.fields) for c in report.changes] == [
        ("update", {"parent": ("dept", "org")})]  # fmt: skip


async def test_team_since_is_checked_when_a_service_changes_team(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    await add_team(client, admin, "team-a")
    await add_team(client, admin, "team-b")
    service = {"slug": "shop", "name": "Shop", "tier": 2, "team": "team-a",
               "team_since": "2026-03-01T00:00:00Z"}  # fmt: skip
    await send(client, admin, "POST", "/v1/services", service, status=201)
    # Not read back: the ownership history keeps it.
    got = await send(client, admin, "GET", "/v1/services/shop", status=200)
    assert "team_since" not in got
    for since, why in (("2026-02-01T00:00:00Z", "after 2026-03-01T00:00:00Z"),
                       ("2199-01-01T00:00:00Z", "future")):  # fmt: skip
        body = {**service, "team": "team-b", "team_since": since}
        problem = await send(client, admin, "PUT", "/v1/services/shop", body, status=422)
        assert fields(problem) == ["team_since"]
        assert why in problem["detail"]
        # Refused as a whole: the service keeps its team.
        got = await send(client, admin, "GET", "/v1/services/shop", status=200)
        assert got["team"] == "team-a"
    # The same team again: team_since is not read, whatever it says.
    body = {**service, "team_since": "2026-02-01T00:00:00Z"}
    await send(client, admin, "PUT", "/v1/services/shop", body, status=200)
    body = {**service, "team": "team-b", "team_since": "2026-03-10T00:00:00Z"}
    got = await send(client, admin, "PUT", "/v1/services/shop", body, status=200)
    assert got["team"] == "team-b"
    # The refused moves left no trace: team-a from 03-01 to the move, then team-b.
    assert await team_history(client, admin, "shop") == [
        {"team": "team-a", "since": "2026-03-01T00:00:00Z", "until": "2026-03-10T00:00:00Z"},
        {"team": "team-b", "since": "2026-03-10T00:00:00Z", "until": None},
    ]  # fmt: skip
    # No team: team-b's stretch ends, and no one owns it after.
    body = {**service, "team": None, "team_since": "2026-03-12T00:00:00Z"}
    await send(client, admin, "PUT", "/v1/services/shop", body, status=200)
    history = await team_history(client, admin, "shop")
    assert history[-1] == {"team": "team-b", "since": "2026-03-10T00:00:00Z",
                           "until": "2026-03-12T00:00:00Z"}  # fmt: skip


async def team_history(client: httpx.AsyncClient, headers: Headers, slug: str) -> Any:
    query = '{ service(slug: "' + slug + '") { teamHistory { team since until } } }'
    r = await client.post("/graphql", json={"query": query}, headers=headers)
    assert r.status_code == 200 and "errors" not in r.json(), r.text
    return r.json()["data"]["service"]["teamHistory"]


async def test_catalog_apply_moves_a_service_with_its_history(
    con: dbmod.Connection, client: httpx.AsyncClient, admin: Headers
) -> None:
    def catalog(team: str, since: str | None = None) -> CatalogFile:
        service: dict[str, Any] = {"slug": "shop", "name": "Shop", "tier": 2, "team": team}
        if since is not None:
            service["team_since"] = since
        return CatalogFile.model_validate({
            "teams": [{"slug": "team-a", "name": "A"}, {"slug": "team-b", "name": "B"}],
            "services": [service],
        })  # fmt: skip

    await apply_catalog(con, catalog("team-a", "2026-03-01T00:00:00Z"), dry_run=False)
    again = await apply_catalog(con, catalog("team-a", "2026-03-01T00:00:00Z"), dry_run=False)
    assert again.changes == []
    report = await apply_catalog(con, catalog("team-b", "2026-03-06T00:00:00Z"), dry_run=False)
    # The move is reported by its team; the history keeps when it took effect.
    assert [(c.key, c.fields) for c in report.changes] == [
        ("shop", {"team": ("team-a", "team-b")})]  # fmt: skip
    assert await team_history(client, admin, "shop") == [
        {"team": "team-a", "since": "2026-03-01T00:00:00Z", "until": "2026-03-06T00:00:00Z"},
        {"team": "team-b", "since": "2026-03-06T00:00:00Z", "until": None},
    ]  # fmt: skip
