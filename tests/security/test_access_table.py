"""Access guarantees beyond tests/rest/test_scopes.py (which covers every REST route).

* GraphQL: every mutation of the built schema (read from the schema itself, so a mutation
  added later is in the table at once) is refused to read and ingest tokens and to no token,
  and let through for admin; every Query root field needs a token (401 without one).
* Secrets are never logged nor answered: every log record (all loggers at DEBUG, also as the
  JSON formatter writes it) and every response is searched for each secret while tokens are
  made and used, sources with secrets are registered, signed webhooks arrive, a wrong token
  is refused and a notification is signed and sent.
* Comparisons of secrets are constant time: webhook signatures and tokens go through
  hmac.compare_digest, API tokens through a lookup of their SHA-256 digest.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import logging
import os
import secrets
import urllib.parse
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import graphql
import httpx
import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
)
from pydantic import SecretStr

from service import background, ratelimit
from service import db as dbmod
from service.app import create_app
from service.config import Settings
from service.errors import Unauthorized
from service.graphql.schema import build_schema
from service.ingest import sources
from service.logs import JsonFormatter
from service.models import tokens as token_models
from service.models.enums import Scope
from service.notify import signing
from service.usecases import notifications as outbox
from service.usecases import tokens
from tests.conftest import SingleConnectionDatabase, app_client
from tests.notify.receiver import Receiver, free_port, serving
from tests.security.support import (
    KINDS,
    PROBLEM,
    SOURCES,
    Headers,
    Json,
    base_payload,
    changed,
    make_catalog,
    make_sources,
    row_counts,
    signed,
    webhook_path,
)

# The schema, as built by the service ------------------------------------------------------------

SCHEMA = graphql.build_schema(build_schema(Settings()).as_str())
assert SCHEMA.mutation_type is not None
MUTATIONS: dict[str, GraphQLField] = dict(SCHEMA.mutation_type.fields)
QUERIES: dict[str, GraphQLField] = dict(SCHEMA.query_type.fields) if SCHEMA.query_type else {}

SCALARS: dict[str, Any] = {
    "String": "probe",
    "ID": "1",
    "Int": 1,
    "Float": 1.0,
    "Boolean": True,
    "DateTime": "2026-03-01T00:00:00+00:00",
    "Date": "2026-03-01",
}


def sample(type_: GraphQLInputType) -> Any:
    """A value of an input type with only its required members (variables' JSON form)."""
    if isinstance(type_, GraphQLNonNull):
        return sample(type_.of_type)
    if isinstance(type_, GraphQLList):
        return [sample(type_.of_type)]
    if isinstance(type_, GraphQLEnumType):
        return next(iter(type_.values))
    if isinstance(type_, GraphQLInputObjectType):
        return {
            name: sample(member.type)
            for name, member in type_.fields.items()
            if graphql.is_required_input_field(member)
        }
    assert isinstance(type_, GraphQLScalarType), type_
    return SCALARS[type_.name]


#: Roots taking one of several optional arguments (a slug or a Backstage reference): the one
#: a probe gives.
ONE_OF = {"service": "slug", "team": "slug"}


def operation(kind: str, name: str, field: GraphQLField) -> Json:
    """A request body calling root field `name` with its required arguments as variables."""
    required = {a: arg for a, arg in field.args.items()
                if graphql.is_required_argument(arg) or ONE_OF.get(name) == a}  # fmt: skip
    declared = ", ".join(f"${a}: {arg.type}" for a, arg in required.items())
    passed = ", ".join(f"{a}: ${a}" for a in required)
    call = f"{name}({passed})" if passed else name
    named = graphql.get_named_type(field.type)
    selection = " { __typename }" if not graphql.is_leaf_type(named) else ""
    head = f"{kind} Probe({declared})" if declared else kind
    return {
        "query": f"{head} {{ {call}{selection} }}",
        "variables": {a: sample(arg.type) for a, arg in required.items()},
    }


async def bearer(con: dbmod.Connection, *scopes: Scope) -> Headers:
    made = await tokens.create_token(con, name="-".join(scopes) or "none", scopes=list(scopes))
    return {"Authorization": f"Bearer {made.token}"}


def forbidden_errors(body: Json) -> list[Json]:
    return [e for e in body.get("errors") or [] if e.get("extensions", {}).get("code")]


def test_the_schema_has_the_documented_mutations_and_roots() -> None:
    """The tables below come from the schema; this only checks they are not empty."""
    documented = {
        "upsertTeam", "upsertService", "upsertOutcome", "upsertKpi", "createTarget",
        "deleteTarget", "linkKpiOutcome", "linkKpiService", "deleteKpi", "deleteService",
        "evaluate", "acknowledgeEscalation", "resolveEscalation",
    }  # fmt: skip
    assert documented <= set(MUTATIONS)
    roots = {"services", "service", "kpis", "kpi", "outcomes", "outcome", "teams", "team",
             "scorecard", "governanceGaps", "escalations", "incident", "change",
             "deliveries"}  # fmt: skip
    assert roots <= set(QUERIES)


@pytest.mark.parametrize("name", sorted(MUTATIONS))
@pytest.mark.parametrize(
    "scopes", [(Scope.READ,), (Scope.READ, Scope.INGEST)], ids=lambda s: "+".join(s)
)
async def test_every_mutation_is_refused_to_a_read_token(
    client: httpx.AsyncClient, con: dbmod.Connection, name: str, scopes: tuple[Scope, ...]
) -> None:
    await make_catalog(con)
    headers = await bearer(con, *scopes)
    before = await row_counts(con)
    resp = await client.post(
        "/graphql", json=operation("mutation", name, MUTATIONS[name]), headers=headers
    )
    assert resp.status_code == 403, resp.text
    assert resp.headers["content-type"] == "application/json"
    body = resp.json()
    assert body["data"] is None
    assert body["errors"] == [{
        "message": "this token lacks the 'admin' scope needed for mutations",
        "extensions": {"code": "FORBIDDEN", "required_scope": "admin"},
    }]  # fmt: skip
    assert changed(before, await row_counts(con)) == {}


@pytest.mark.parametrize("name", sorted(MUTATIONS))
async def test_every_mutation_is_refused_to_an_ingest_token_at_the_door(
    client: httpx.AsyncClient, con: dbmod.Connection, name: str
) -> None:
    """/graphql needs read first: an ingest-only token is turned away before any parsing."""
    headers = await bearer(con, Scope.INGEST)
    before = await row_counts(con)
    resp = await client.post(
        "/graphql", json=operation("mutation", name, MUTATIONS[name]), headers=headers
    )
    assert resp.status_code == 403, resp.text
    assert resp.headers["content-type"] == PROBLEM
    assert resp.json()["required_scope"] == "read"
    assert changed(before, await row_counts(con)) == {}


@pytest.mark.parametrize("name", sorted(MUTATIONS))
@pytest.mark.parametrize("authorization", [None, "Bearer kpi_not-a-token", "Basic YTpi"])
async def test_every_mutation_is_refused_without_a_valid_token(
    client: httpx.AsyncClient, con: dbmod.Connection, name: str, authorization: str | None
) -> None:
    before = await row_counts(con)
    headers = {"Authorization": authorization} if authorization else {}
    resp = await client.post(
        "/graphql", json=operation("mutation", name, MUTATIONS[name]), headers=headers
    )
    assert resp.status_code == 401, resp.text
    assert resp.headers["content-type"] == PROBLEM
    assert resp.headers["www-authenticate"].startswith("Bearer")
    assert changed(before, await row_counts(con)) == {}


@pytest.mark.parametrize("name", sorted(MUTATIONS))
async def test_every_mutation_is_let_through_for_admin(
    client: httpx.AsyncClient, con: dbmod.Connection, name: str
) -> None:
    await make_catalog(con)
    resp = await client.post(
        "/graphql", json=operation("mutation", name, MUTATIONS[name]),
        headers=await bearer(con, Scope.ADMIN),
    )  # fmt: skip
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert forbidden_errors(body) == [], body
    # Past the scope check the mutation ran: its result (the object or a Problem) is there.
    assert body["data"][name]["__typename"], body


async def test_a_mutation_picked_by_operation_name_is_refused_to_a_read_token(
    client: httpx.AsyncClient, con: dbmod.Connection
) -> None:
    query = 'query Q { teams { nodes { slug } } } mutation M { deleteKpi(key: "x") { __typename } }'
    headers = await bearer(con, Scope.READ)
    resp = await client.post(
        "/graphql", json={"query": query, "operationName": "M"}, headers=headers
    )
    assert resp.status_code == 403, resp.text
    ok = await client.post("/graphql", json={"query": query, "operationName": "Q"}, headers=headers)
    assert ok.status_code == 200 and "errors" not in ok.json(), ok.text


@pytest.mark.parametrize("name", sorted(QUERIES))
@pytest.mark.parametrize("authorization", [None, "Bearer kpi_not-a-token", "Basic YTpi", "Bearer"])
async def test_every_query_root_needs_a_token(
    client: httpx.AsyncClient, name: str, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    body = operation("query", name, QUERIES[name])
    resp = await client.post("/graphql", json=body, headers=headers)
    assert resp.status_code == 401, resp.text
    assert resp.headers["content-type"] == PROBLEM
    assert resp.headers["www-authenticate"].startswith("Bearer")
    assert "data" not in resp.json()
    # The same over GET.
    params = {"query": body["query"], "variables": json.dumps(body["variables"])}
    resp = await client.get("/graphql", params=params, headers=headers)
    assert resp.status_code == 401, resp.text


@pytest.mark.parametrize("name", sorted(QUERIES))
async def test_every_query_root_answers_a_read_token_and_refuses_an_ingest_one(
    client: httpx.AsyncClient, con: dbmod.Connection, name: str
) -> None:
    await make_catalog(con)
    body = operation("query", name, QUERIES[name])
    refused = await client.post("/graphql", json=body, headers=await bearer(con, Scope.INGEST))
    assert refused.status_code == 403, refused.text
    assert refused.json()["required_scope"] == "read"
    resp = await client.post("/graphql", json=body, headers=await bearer(con, Scope.READ))
    assert resp.status_code == 200, resp.text
    errors = forbidden_errors(resp.json())
    if name in ("deliveries", "dataSources", "auditEntries"):  # admin only (README, GraphQL)
        assert [e["extensions"] for e in errors] == [
            {"code": "FORBIDDEN", "required_scope": "admin"}
        ]
        assert resp.json()["data"] is None
        admin = await client.post("/graphql", json=body, headers=await bearer(con, Scope.ADMIN))
        assert admin.status_code == 200 and "errors" not in admin.json(), admin.text
    else:
        assert errors == [] and "errors" not in resp.json(), resp.text


# Secrets never logged nor answered --------------------------------------------------------------


class Responses:
    """Every response seen, but the one allowed to carry a new token's secret."""

    def __init__(self) -> None:
        self.seen: list[httpx.Response] = []

    def add(self, resp: httpx.Response) -> httpx.Response:
        self.seen.append(resp)
        return resp

    def texts(self) -> Iterator[tuple[str, str]]:
        for resp in self.seen:
            where = f"{resp.request.method} {resp.request.url.path} -> {resp.status_code}"
            yield where, resp.text
            yield where + " (headers)", "\n".join(f"{k}: {v}" for k, v in resp.headers.items())


@pytest.fixture
def all_logs(caplog: pytest.LogCaptureFixture) -> Iterator[Callable[[], list[str]]]:
    """Every log record from now on, of every logger at DEBUG: each as the default formatter
    and as the service's JSON formatter (with its extra fields and traceback) writes it."""
    caplog.set_level(logging.DEBUG)
    for name in list(logging.root.manager.loggerDict):
        caplog.set_level(logging.DEBUG, logger=name)
    formatter = JsonFormatter()
    plain = logging.Formatter("%(name)s %(levelname)s %(message)s %(args)s")

    def lines() -> list[str]:
        out = []
        for record in caplog.records:
            if record.name == "httpx" and "http://kpi.test/" in record.getMessage():
                continue  # the test's own client, logging the URLs it calls
            out.append(plain.format(record))
            out.append(formatter.format(record))
            out.append(repr(record.__dict__))
        return out

    yield lines


def variants(secret: str) -> list[str]:
    """The secret as it could show up: itself, URL-quoted, base64 and JSON-escaped."""
    forms = {secret, urllib.parse.quote(secret, safe=""), json.dumps(secret)[1:-1]}
    forms.add(base64.b64encode(secret.encode()).decode())
    return sorted(f for f in forms if len(f) >= 8)


def database_password() -> str | None:
    url = os.environ.get("KPI_DATABASE_URL")
    return urllib.parse.urlsplit(url).password if url else None


@pytest.fixture
async def notify_receiver() -> AsyncIterator[Receiver]:
    async with serving(Receiver(secret=NOTIFY_KEY)) as running:
        yield running


NOTIFY_KEY = signing.new_secret_key()
NOTIFY_SECRET = signing.format_secret(NOTIFY_KEY)


async def test_secrets_are_never_logged_nor_answered(
    con: dbmod.Connection,
    settings: Settings,
    all_logs: Callable[[], list[str]],
    notify_receiver: Receiver,
) -> None:
    settings = settings.model_copy(
        update={"notify_secret": SecretStr(NOTIFY_SECRET), "outbound_allow": ["127.0.0.1"]}
    )
    await make_catalog(con)
    responses = Responses()
    secret_values: dict[str, str] = {
        f"source secret ({k})": s["secret"] for k, s in SOURCES.items()
    }
    secret_values["notify secret"] = NOTIFY_SECRET
    secret_values["notify key"] = NOTIFY_SECRET.removeprefix("whsec_")
    password = database_password()
    if password:
        secret_values["database password"] = password
    admin_token = await tokens.create_token(con, name="admin", scopes=[Scope.ADMIN])
    secret_values["admin token"] = admin_token.token
    admin = {"Authorization": f"Bearer {admin_token.token}"}

    async with app_client(con, settings) as client:
        # A token made over the API: its secret is in that one answer, and nowhere else.
        made = await client.post(
            "/v1/tokens", json={"name": "ci", "scopes": ["ingest", "read"]}, headers=admin
        )
        assert made.status_code == 201, made.text
        new_token = made.json()["token"]
        secret_values["token made over the API"] = new_token
        ci = {"Authorization": f"Bearer {new_token}"}
        responses.add(await client.get("/v1/teams", headers=ci))
        responses.add(
            await client.post(
                "/graphql", json={"query": "{ teams { nodes { slug } } }"}, headers=ci
            )
        )
        responses.add(await client.get("/v1/tokens", headers=admin))

        # Sources with secrets (and a basic-auth one), read back.
        for source in SOURCES.values():
            resp = responses.add(await client.post("/v1/sources", json=source, headers=admin))
            assert resp.status_code == 201, resp.text
            assert resp.json()["has_secret"] is True
        basic: Json = {
            "name": "og-basic",
            "kind": "opsgenie",
            "secret": "basic-" + secrets.token_hex(8),
            "username": "relay",
            "service_rules": [{"match": {"ref": "Server"}, "service": "erp"}],
        }
        secret_values["basic-auth password"] = basic["secret"]
        responses.add(await client.post("/v1/sources", json=basic, headers=admin))
        replaced: Json = {**basic, "secret": "rotated-" + secrets.token_hex(8)}
        secret_values["rotated secret"] = replaced["secret"]
        responses.add(await client.put("/v1/sources/og-basic", json=replaced, headers=admin))
        responses.add(await client.get("/v1/sources", headers=admin))
        for source in SOURCES.values():
            responses.add(await client.get(f"/v1/sources/{source['name']}", headers=admin))

        # Webhooks: signed, wrongly signed, bad bodies, a ?token= and a basic-auth one.
        for kind in KINDS:
            body = json.dumps(base_payload(kind)).encode()
            responses.add(
                await client.post(webhook_path(kind), content=body, headers=signed(kind, body))
            )
            responses.add(
                await client.post(
                    webhook_path(kind), content=body, headers=signed(kind, body, secret="wrong")
                )
            )
            responses.add(
                await client.post(
                    webhook_path(kind), content=b"{not json", headers=signed(kind, b"{not json")
                )
            )
        og_body = json.dumps(base_payload("opsgenie")).encode()
        query_token = {"token": SOURCES["jira"]["secret"]}
        responses.add(
            await client.post(
                webhook_path("jira"),
                params=query_token,
                content=json.dumps(base_payload("jira")).encode(),
            )
        )
        credentials = base64.b64encode(f"relay:{replaced['secret']}".encode()).decode()
        secret_values["basic-auth credentials"] = credentials
        responses.add(
            await client.post(
                "/v1/webhooks/og-basic",
                content=og_body,
                headers={"Authorization": f"Basic {credentials}"},
            )
        )
        data_source = {"name": "prom", "url": "http://127.0.0.1:9090", "auth": "basic",
                       "username": "grafana", "secret": "prom-secret-5e1d0c"}  # fmt: skip
        secret_values["data source secret"] = data_source["secret"]
        created = await client.post("/v1/data-sources", json=data_source, headers=admin)
        assert responses.add(created).status_code == 201, created.text
        responses.add(await client.get("/v1/data-sources", headers=admin))
        responses.add(await client.get("/v1/data-sources/prom", headers=admin))
        responses.add(await client.post("/graphql", headers=admin, json={
            "query": "{ dataSources { nodes { name username hasSecret } } }"}))  # fmt: skip
        deliveries = responses.add(await client.get("/v1/deliveries", headers=admin)).json()
        assert len(deliveries) >= 2 * len(KINDS)  # applied and invalid; rejections apart:
        rejected = await client.get("/v1/webhook-rejections", headers=admin)
        assert len(responses.add(rejected).json()) == len(KINDS)
        for delivery in deliveries:
            responses.add(await client.get(f"/v1/deliveries/{delivery['id']}", headers=admin))
        responses.add(
            await client.post(
                "/graphql",
                json={"query": "{ deliveries { id status deliveryKey eventType detail } }"},
                headers=admin,
            )
        )

        # Failing auth: a wrong token, a revoked one, a token in the wrong scheme.
        wrong = token_models.TOKEN_PREFIX + secrets.token_urlsafe(32)
        secret_values["wrong token"] = wrong
        for headers in ({"Authorization": f"Bearer {wrong}"}, {"Authorization": f"Token {wrong}"}):
            assert responses.add(await client.get("/v1/teams", headers=headers)).status_code == 401
            responses.add(
                await client.post(
                    "/graphql", json={"query": "{ teams { nodes { slug } } }"}, headers=headers
                )
            )
        revoked = responses.add(
            await client.post("/v1/tokens", json={"name": "old", "scopes": ["read"]}, headers=admin)
        )
        revoked_token = revoked.json()["token"]
        responses.seen.remove(revoked)  # the one answer allowed to show it
        secret_values["revoked token"] = revoked_token
        responses.add(await client.delete(f"/v1/tokens/{revoked.json()['id']}", headers=admin))
        responses.add(
            await client.get("/v1/teams", headers={"Authorization": f"Bearer {revoked_token}"})
        )

        # A notification signed with the configured secret, and one whose receiver is gone.
        for url in (notify_receiver.url, f"http://127.0.0.1:{free_port()}/gone"):
            await outbox.enqueue(
                con,
                escalation_id=None,
                position=None,
                url=url,
                event_type="kpi.escalation.step",
                occurred_at=dt.datetime(2031, 3, 1, tzinfo=dt.UTC),
                data={"kpi": "x"},
            )
        async with httpx.AsyncClient() as http:
            report = await background.tick(
                SingleConnectionDatabase(con), settings, http, dt.datetime.now(dt.UTC)
            )
        assert (report.delivered, report.retrying) == (1, 1)
        assert notify_receiver.received and notify_receiver.received[0].valid
        responses.add(await client.get("/v1/notifications", headers=admin))

    # The database password, when connecting fails (the message a start-up failure logs).
    fake_password = "pw-" + secrets.token_hex(12)
    secret_values["database password (refused connection)"] = fake_password
    with pytest.raises(Exception) as refused:
        await dbmod.connect(
            f"postgresql://kpi:{fake_password}@127.0.0.1:{free_port()}/kpi", timeout=2
        )
    logging.getLogger("service.tests").exception("start-up failed", exc_info=refused.value)
    failing = create_app(
        Settings(
            database_url=f"postgresql://kpi:{fake_password}@127.0.0.1:{free_port()}/kpi",
            db_connect_timeout_seconds=2,
        )
    )
    with pytest.raises(Exception) as startup:
        async with failing.router.lifespan_context(failing):
            pass
    logging.getLogger("uvicorn.error").exception(
        "Application startup failed", exc_info=startup.value
    )
    assert fake_password not in repr(Settings(database_url=f"postgresql://u:{fake_password}@h/d"))

    logs = all_logs()
    assert len(logs) > 50  # the capture works: requests, deliveries, rounds were logged
    leaks = [
        (label, where, text[:300])
        for label, value in secret_values.items()
        for form in variants(value)
        for where, text in [*responses.texts(), *(("log", line) for line in logs)]
        if form in text
    ]
    assert leaks == []


# Constant-time comparisons ----------------------------------------------------------------------


class Recorder:
    """hmac.compare_digest, recording its calls; or answering `fixed` instead of comparing."""

    def __init__(self, fixed: bool | None = None) -> None:
        self.calls: list[tuple[Any, Any]] = []
        self.fixed = fixed
        self.real = hmac.compare_digest

    def __call__(self, a: Any, b: Any) -> bool:
        self.calls.append((a, b))
        return self.real(a, b) if self.fixed is None else self.fixed


BODY = b'{"probe": true}'


def presented(kind: str, secret: str, how: str = "header") -> tuple[Headers, dict[str, str]]:
    """(headers, query) a delivery of BODY proving `secret` the way the tool does."""
    if how == "query":
        return {}, {"token": secret}
    if how == "basic":
        return {
            "authorization": "Basic " + base64.b64encode(f"relay:{secret}".encode()).decode()
        }, {}
    return {k.lower(): v for k, v in signed(kind, BODY, secret=secret).items()}, {}


CHECKS = [(kind, "header") for kind in KINDS] + [
    (kind, how) for kind in ("opsgenie", "alertmanager", "jira") for how in ("query", "basic")
]


@pytest.mark.parametrize(("kind", "how"), CHECKS, ids=[f"{k}-{h}" for k, h in CHECKS])
def test_webhook_proofs_are_decided_by_compare_digest(
    monkeypatch: pytest.MonkeyPatch, kind: str, how: str
) -> None:
    secret = "s3cret-" + kind
    username = "relay" if how == "basic" else None
    good, good_query = presented(kind, secret, how)
    bad, bad_query = presented(kind, "not-" + secret, how)

    def verify(headers: Headers, query: dict[str, str]) -> bool:
        return sources.verify(kind, headers, query, BODY, secret, username)

    recorder = Recorder()
    monkeypatch.setattr(hmac, "compare_digest", recorder)
    assert verify(good, good_query) is True
    assert recorder.calls, "the right proof was accepted without compare_digest"
    recorder.calls.clear()
    assert verify(bad, bad_query) is False
    assert recorder.calls, "the wrong proof was refused without compare_digest"
    # The answer is compare_digest's: no other comparison of the secret decides it.
    monkeypatch.setattr(hmac, "compare_digest", Recorder(fixed=False))
    assert verify(good, good_query) is False
    monkeypatch.setattr(hmac, "compare_digest", Recorder(fixed=True))
    assert verify(bad, bad_query) is True


@pytest.mark.parametrize("kind", KINDS)
async def test_the_webhook_endpoint_checks_through_compare_digest(
    client: httpx.AsyncClient, con: dbmod.Connection, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    await make_catalog(con)
    await make_sources(con)
    body = json.dumps(base_payload(kind)).encode()
    recorder = Recorder()
    monkeypatch.setattr(hmac, "compare_digest", recorder)
    wrong = await client.post(webhook_path(kind), content=body,
                              headers=signed(kind, body, secret="wrong"))  # fmt: skip
    assert wrong.status_code == 401
    assert recorder.calls
    recorder.calls.clear()
    right = await client.post(webhook_path(kind), content=body, headers=signed(kind, body))
    assert right.status_code in (200, 202), right.text
    assert recorder.calls


def test_notification_signatures_are_checked_with_compare_digest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key = signing.new_secret_key()
    now = 1_800_000_000
    headers = signing.headers(key, "msg_probe", now, BODY)
    recorder = Recorder()
    monkeypatch.setattr(hmac, "compare_digest", recorder)
    assert signing.verify(key, headers, BODY, now=now)
    assert recorder.calls
    monkeypatch.setattr(hmac, "compare_digest", Recorder(fixed=False))
    assert not signing.verify(key, headers, BODY, now=now)


class RecordingConnection:
    """A connection that records the statements run and their arguments."""

    def __init__(self, con: dbmod.Connection) -> None:
        self.con = con
        self.calls: list[tuple[str, tuple[Any, ...]]] = []

    async def fetchrow(self, query: str, *args: Any) -> Any:
        self.calls.append((query, args))
        return await self.con.fetchrow(query, *args)


async def test_a_token_is_checked_by_looking_up_its_digest(con: dbmod.Connection) -> None:
    made = await tokens.create_token(con, name="probe", scopes=[Scope.READ])
    recording = RecordingConnection(con)
    principal = await tokens.authenticate(recording, f"Bearer {made.token}")
    assert principal.token_id == made.id
    digest = hashlib.sha256(made.token.encode()).digest()
    assert len(recording.calls) == 1
    query, args = recording.calls[0]
    assert "token_hash = $1" in " ".join(query.split())
    assert args == (digest,)  # the digest is looked up; the token itself never reaches SQL
    recording.calls.clear()
    with pytest.raises(Unauthorized):
        await tokens.authenticate(recording, f"Bearer {made.token}x")
    assert recording.calls[0][1] == (hashlib.sha256(f"{made.token}x".encode()).digest(),)
    # Only the digest is kept.
    columns = {r["column_name"] for r in await con.fetch(
        "select column_name from information_schema.columns"
        " where table_schema = current_schema() and table_name = 'api_token'")}  # fmt: skip
    assert columns == {
        "id", "name", "token_hash", "scopes", "team_id", "read_scope", "created_at", "revoked_at"
    }  # fmt: skip
    stored = await con.fetchval("select token_hash from api_token where id = $1", made.id)
    assert bytes(stored) == digest


async def test_rest_and_graphql_authenticate_through_the_digest_lookup(
    client: httpx.AsyncClient, con: dbmod.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = await tokens.create_token(con, name="probe", scopes=[Scope.READ])
    hashed: list[str] = []
    real = token_models.hash_token

    def recording_hash(token: str) -> bytes:
        hashed.append(token)
        return real(token)

    monkeypatch.setattr(tokens, "hash_token", recording_hash)
    # With a rate limit, the lookup that also takes from the token's bucket hashes it.
    monkeypatch.setattr(ratelimit, "hash_token", recording_hash)
    headers = {"Authorization": f"Bearer {made.token}"}
    assert (await client.get("/v1/teams", headers=headers)).status_code == 200
    assert hashed == [made.token]
    resp = await client.post("/graphql", json={"query": "{ teams { nodes { slug } } }"},
                             headers=headers)  # fmt: skip
    assert resp.status_code == 200
    assert hashed == [made.token, made.token]
