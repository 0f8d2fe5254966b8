"""Every route answers 401 without a token and 403 with a token lacking its declared scope;
token administration (revocation at once, the secret shown only once)."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from starlette.routing import Route

from service import db as dbmod
from service.app import all_endpoints, create_app
from service.config import Settings
from service.models import tokens as token_models
from service.models.enums import Scope
from service.rest.endpoint import Endpoint
from service.usecases import tokens

Headers = dict[str, str]

_PARAM = re.compile(r"\{(\w+)(?::(\w+))?\}")


def concrete(path: str) -> str:
    """The path with 1 for each int convertor and "x" for any other parameter."""
    return _PARAM.sub(lambda m: "1" if m.group(2) == "int" else "x", path)


def endpoint_id(e: Endpoint) -> str:
    return f"{e.method} {e.path}"


ENDPOINTS = all_endpoints()

#: Tokens that lack the endpoint's scope, by that scope.
LACKING: dict[Scope, list[tuple[Scope, ...]]] = {
    Scope.READ: [(Scope.INGEST,)],
    Scope.INGEST: [(Scope.READ,)],
    Scope.ADMIN: [(Scope.READ,), (Scope.INGEST,), (Scope.READ, Scope.INGEST)],
}


async def token(con: dbmod.Connection, *scopes: Scope) -> Headers:
    made = await tokens.create_token(con, name="-".join(scopes), scopes=list(scopes))
    return {"Authorization": f"Bearer {made.token}"}


def test_concrete_paths() -> None:
    assert concrete("/v1/targets/{id:int}") == "/v1/targets/1"
    assert concrete("/v1/kpis/{key}/outcomes/{outcome}") == "/v1/kpis/x/outcomes/x"
    assert concrete("/healthz") == "/healthz"


def test_endpoints_are_unique_and_scoped() -> None:
    keys = [(e.method, e.path) for e in ENDPOINTS]
    assert len(keys) == len(set(keys))
    open_ = sorted(e.path for e in ENDPOINTS if e.auth == "none")
    assert open_ == ["/healthz", "/readyz"]
    # Webhooks are authenticated by the sending tool's own signature or token, not a scope.
    by_source = sorted(e.path for e in ENDPOINTS if e.auth == "source")
    assert by_source == ["/v1/webhooks/{source}"]
    assert all(e.scope is not None for e in ENDPOINTS if e.auth == "token")


def test_every_route_is_a_declared_endpoint() -> None:
    """A route added to the app without an Endpoint (and so without a scope) fails here."""
    app = create_app(Settings())
    declared = {(e.method, e.path) for e in ENDPOINTS}
    served = set()
    for route in app.routes:
        assert isinstance(route, Route), route
        if route.path == "/graphql":
            continue
        for method in route.methods or ():
            if method != "HEAD":
                served.add((method, route.path))
    assert served == declared


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=endpoint_id)
async def test_scopes_of_every_endpoint(
    client: httpx.AsyncClient, con: dbmod.Connection, endpoint: Endpoint
) -> None:
    path = concrete(endpoint.path)

    async def call(headers: Headers | None = None) -> httpx.Response:
        return await client.request(endpoint.method, path, headers=headers)

    anonymous = await call()
    if endpoint.auth == "none":
        assert anonymous.status_code in (200, 503), anonymous.text
        return
    if endpoint.auth == "source":
        # No such source: refused before anything is read or stored.
        assert anonymous.status_code == 404, anonymous.text
        return
    assert endpoint.scope is not None
    assert anonymous.status_code == 401, anonymous.text
    assert anonymous.headers["content-type"] == "application/problem+json"
    assert anonymous.headers["www-authenticate"] == "Bearer"

    bad_scheme = await call({"Authorization": "Basic dXNlcjpwYXNz"})
    assert bad_scheme.status_code == 401, bad_scheme.text
    unknown = await call({"Authorization": "Bearer kpi_unknown"})
    assert unknown.status_code == 401, unknown.text

    for scopes in LACKING[endpoint.scope]:
        refused = await call(await token(con, *scopes))
        assert refused.status_code == 403, (scopes, refused.text)
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["required_scope"] == endpoint.scope.value

    # the scope itself (not just admin) is enough
    allowed = await call(await token(con, endpoint.scope))
    assert allowed.status_code not in (401, 403), allowed.text
    admitted = await call(await token(con, Scope.ADMIN))
    assert admitted.status_code not in (401, 403), admitted.text
    # past the door, an empty request is a client error (404, 415, ...), never a crash
    assert allowed.status_code < 500, allowed.text
    assert admitted.status_code < 500, admitted.text


async def test_health_endpoints_need_no_token(client: httpx.AsyncClient) -> None:
    r = await client.get("/healthz")
    assert (r.status_code, r.json()) == (200, {"status": "ok"})
    r = await client.get("/readyz")
    assert (r.status_code, r.json()) == (200, {"status": "ready"})


async def test_revoked_token_is_refused_at_once(client: httpx.AsyncClient, admin: Headers) -> None:
    r = await client.post("/v1/tokens", json={"name": "dash", "scopes": ["read"]}, headers=admin)
    assert r.status_code == 201, r.text
    made = r.json()
    headers = {"Authorization": f"Bearer {made['token']}"}
    assert (await client.get("/v1/teams", headers=headers)).status_code == 200
    graphql = {"query": "{ teams { nodes { slug } } }"}
    assert (await client.post("/graphql", json=graphql, headers=headers)).status_code == 200

    r = await client.delete(f"/v1/tokens/{made['id']}", headers=admin)
    assert r.status_code == 204, r.text

    refused = await client.get("/v1/teams", headers=headers)
    assert refused.status_code == 401
    assert refused.json()["detail"] == "the token is unknown or revoked"
    refused = await client.post("/graphql", json=graphql, headers=headers)
    assert refused.status_code == 401
    listed = {t["id"]: t for t in (await client.get("/v1/tokens", headers=admin)).json()}
    assert listed[made["id"]]["revoked_at"] is not None
    # revoking again is harmless; an unknown id is 404
    assert (await client.delete(f"/v1/tokens/{made['id']}", headers=admin)).status_code == 204
    assert (await client.delete("/v1/tokens/999999999", headers=admin)).status_code == 404


async def test_revoked_admin_token_is_refused_at_once(
    client: httpx.AsyncClient, con: dbmod.Connection
) -> None:
    made = await tokens.create_token(con, name="self", scopes=[Scope.ADMIN])
    headers = {"Authorization": f"Bearer {made.token}"}
    r = await client.delete(f"/v1/tokens/{made.id}", headers=headers)
    assert r.status_code == 204, r.text
    assert (await client.get("/v1/tokens", headers=headers)).status_code == 401


async def test_token_secret_is_shown_once(client: httpx.AsyncClient, admin: Headers) -> None:
    r = await client.post(
        "/v1/tokens",
        json={"name": "pipeline", "scopes": ["ingest", "read", "ingest"]},
        headers=admin,
    )
    assert r.status_code == 201, r.text
    made = r.json()
    assert set(made) == {
        "id", "name", "scopes", "team", "read_scope", "created_at", "revoked_at", "token"
    }  # fmt: skip
    assert (made["team"], made["read_scope"]) == (None, "all")
    assert made["name"] == "pipeline"
    assert made["scopes"] == ["ingest", "read"]
    assert made["revoked_at"] is None
    secret = made["token"]
    assert secret.startswith(token_models.TOKEN_PREFIX)
    assert len(secret) > 40

    r = await client.get("/v1/tokens", headers=admin)
    assert r.status_code == 200
    assert secret not in r.text
    assert secret[len(token_models.TOKEN_PREFIX) :] not in r.text
    assert token_models.hash_token(secret).hex() not in r.text
    listed = r.json()
    mine = [t for t in listed if t["id"] == made["id"]]
    assert mine == [{k: v for k, v in made.items() if k != "token"}]
    assert all("token" not in t for t in listed)
    # and it works
    ok = await client.get("/v1/teams", headers={"Authorization": f"Bearer {secret}"})
    assert ok.status_code == 200


async def test_token_requests_are_validated(client: httpx.AsyncClient, admin: Headers) -> None:
    r = await client.post("/v1/tokens", json={"name": "x", "scopes": []}, headers=admin)
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["scopes"]
    r = await client.post("/v1/tokens", json={"name": "x", "scopes": ["root"]}, headers=admin)
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["scopes.0"]


async def test_a_token_request_with_an_unknown_field_is_refused(
    client: httpx.AsyncClient, admin: Headers, con: dbmod.Connection
) -> None:
    before = await con.fetchval("select count(*) from api_token")
    body = {"name": "dash", "scopes": ["read"], "expires": "never"}
    r = await client.post("/v1/tokens", json=body, headers=admin)
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["expires"]
    assert await con.fetchval("select count(*) from api_token") == before


async def test_the_readme_token_request_creates_the_token_it_says(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    """The `POST /v1/tokens` bodies the README shows (next to `kpi token create`, and the
    team-limited one), sent as they are."""
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    bodies = re.findall(r"curl -s http://127\.0\.0\.1:8000/v1/tokens .*?-d '(\{.*?\})'", readme,
                        flags=re.DOTALL)  # fmt: skip
    r = await client.post("/v1/teams", json={"slug": "payments", "name": "Payments"},
                          headers=admin)  # fmt: skip
    assert r.status_code == 201, r.text
    made = []
    for body in bodies:
        r = await client.post(
            "/v1/tokens", content=body, headers={**admin, "Content-Type": "application/json"}
        )
        assert r.status_code == 201, r.text
        made.append(r.json())
    # Scopes come back sorted and without repeats.
    assert [(m["name"], m["scopes"], m["team"], m["revoked_at"]) for m in made] == [
        ("ci", ["ingest", "read"], None, None),
        ("payments-ci", ["ingest", "read"], "payments", None),
    ]
    assert "kpi token create --name ci --scope read --scope ingest" in readme
