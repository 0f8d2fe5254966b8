"""Every webhook adapter fuzzed on top of the tools' real payloads (tests/fixtures/webhooks).

A strategy takes a fixture's parsed JSON and mutates it at any depth: deletes a member,
replaces a value with another JSON type, null, a huge or odd number, a long or odd string,
an odd timestamp; duplicates or empties a list. The adapter's `parse` is then called directly
(pure, no database) and may only

* return a `Mapped` that passes model validation again, or
* raise `Unsupported` (a valid delivery the service does not use: kept as unmapped, 202) or
  `PayloadError` (not shaped as the tool documents: logged as invalid, 422, naming a pointer).

`event_type` and `delivery_key` must never raise at all (service/ingest/adapter.py).

A smaller run sends a few mutated payloads per source through POST /v1/webhooks/{source},
signed, on the real database: never a 5xx, and the answer agrees with the adapter's verdict.
Its strings stay under 200 characters: longer ones can reach Postgres' index entry limit, a
known failure of its own (test_bad_input_matrix.py, values too long for an index).
"""

from __future__ import annotations

import collections
import copy
import functools
import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import orjson
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from service import db as dbmod
from service.ingest.model import AdapterOptions, Delivery, Mapped, PayloadError, Unsupported
from service.ingest.sources import source_for
from tests.ingest.fixtures import all_fixtures, fixture
from tests.security.support import (
    KINDS,
    PROBLEM,
    SOURCES,
    Headers,
    make_catalog,
    make_sources,
    signed,
    webhook_path,
)

#: Examples per adapter in the pure run, and per source through the HTTP endpoint.
PURE_EXAMPLES = 1_000
HTTP_EXAMPLES = 12

FUZZ = settings(
    max_examples=PURE_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

#: Every adapter sees these incident issue types (Jira), so most fixtures take the long path.
OPTIONS = AdapterOptions(incident_issue_types=("incident", "bug", "story", "task"))

GITLAB_HOOKS = {
    "deployment": "Deployment Hook",
    "pipeline": "Pipeline Hook",
    "merge_request": "Merge Request Hook",
    "push": "Push Hook",
    "job": "Job Hook",
    "issue": "Issue Hook",
    "reverts": "Merge Request Hook",
}

FIXTURES: dict[str, list[str]] = collections.defaultdict(list)
for _name in all_fixtures():
    FIXTURES[_name.split("/")[0]].append(_name)
PAYLOADS = {name: fixture(name) for names in FIXTURES.values() for name in names}
RAW = {name: orjson.dumps(payload) for name, payload in PAYLOADS.items()}

#: Kinds where fewer mutations than one in five still map: CDEvents are checked against their
#: JSON Schema first, which admits no member it does not name; an Argo CD notification is a
#: dozen members the template renders, most of them required.
MAPPED_SHARE = {"cdevents": 200, "argocd": 40}

#: Examples each adapter's pure run went through, by verdict (reported at the end of the run).
RAN: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)


def event_header(kind: str, name: str) -> Headers:
    """The event header the tool sends with this fixture (the folder it is filed under)."""
    folder = name.split("/")[1]
    if kind == "github":
        return {"x-github-event": "pull_request" if folder == "reverts" else folder}
    if kind == "gitlab":
        return {"x-gitlab-event": GITLAB_HOOKS[folder]}
    if kind == "cdevents":  # CloudEvents binary mode: the CDEvent's own attributes
        context = PAYLOADS[name]["context"]
        return {"ce-type": context["type"], "ce-specversion": "1.0", "ce-id": context["id"],
                "ce-source": context["source"], "content-type": "application/json"}  # fmt: skip
    return {}


# Values and mutations --------------------------------------------------------------------------

ODD_TIMES = [
    "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z", "0001-01-01T00:00:00Z",
    "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-14:00", "9999-12-31T23:59:59Z",
    "2026-01-01", "2026-01-01T00:00:00", "2026-01-01 12:00:00", "2026-01-01 12:00:00 +0000",
    "2026-01-01 12:00:00 UTC", "2026-01-01T00:00:00+25:00", "+002026-01-01T00:00:00Z",
    "2026-01-01T00:00:00.1234567890123Z", "1700000000", "yesterday", "", " ", "Z",
    "2026-W01-1T00:00:00Z", "2026-01-01T24:00:00Z", "2026-01-01T00:00:60Z",
]  # fmt: skip

ODD_NUMBERS = [
    0, -1, 2**31, 2**53 + 1, 2**63 - 1, -(2**63), 2**64 - 1, 1e308, -1e308, 5e-324, -0.0,
    1.5, 2**70 * 1.0, 1e15, 1_700_000_000_000, 1_700_000_000_000_000_000,
]  # fmt: skip


@functools.cache
def json_text(max_size: int) -> st.SearchStrategy[str]:
    """Strings a JSON parser can give: any code point but lone surrogates."""
    return st.text(st.characters(exclude_categories=["Cs"]), max_size=max_size)


@functools.cache
def odd_strings(max_size: int) -> st.SearchStrategy[str]:
    return st.one_of(
        json_text(max_size),
        st.sampled_from(ODD_TIMES),
        st.sampled_from(["\u0000", "a\u0000b", "\u202e", "e\u0301", "\U0001f680", "P1", "p9",
                         "sev1", "critical", "firing", "resolved", "Create", "incident.triggered",
                         "jira:issue_updated", "completed", "success", "merge", "Done"]),
        st.integers(1, 20).map(lambda n: "x" * (max_size // n)),
    )  # fmt: skip


@functools.cache
def leaves(max_size: int) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.none(),
        st.booleans(),
        st.sampled_from(ODD_NUMBERS),
        st.integers(-(2**63), 2**64 - 1),
        st.floats(allow_nan=False, allow_infinity=False),
        odd_strings(max_size),
    )


@functools.cache
def json_values(max_size: int) -> st.SearchStrategy[Any]:
    """Any JSON value (strategies are built once: building them is what costs most)."""
    return st.recursive(
        leaves(max_size),
        lambda inner: st.one_of(
            st.lists(inner, max_size=3),
            st.dictionaries(json_text(12), inner, max_size=3),
        ),
        max_leaves=6,
    )


Path = tuple[str | int, ...]


def paths(value: Any, prefix: Path = ()) -> Iterator[Path]:
    """The path of every value inside `value`, the whole of it included."""
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from paths(item, (*prefix, index))


def get(value: Any, path: Path) -> Any:
    for step in path:
        value = value[step]
    return value


def replaced(value: Any, path: Path, new: Any) -> Any:
    if not path:
        return new
    parent = get(value, path[:-1])
    parent[path[-1]] = new
    return value


def looks_like_time(value: object) -> bool:
    return isinstance(value, str | int | float) and not isinstance(value, bool) and (
        (isinstance(value, str) and len(value) >= 10 and value[:4].isdigit() and "-" in value)
        or (not isinstance(value, str) and 10**12 <= abs(value) < 10**20)
    )  # fmt: skip


@st.composite
def mutation(draw: st.DrawFn, payload: Any, max_size: int) -> Any:
    """One change to the payload (which is changed in place and returned)."""
    every = list(paths(payload))
    # Members near the top are what adapters read most: draw from them half of the time.
    shallow = [p for p in every if len(p) <= 3]
    near_the_top: bool = draw(st.booleans())
    pool = shallow if shallow and near_the_top else every
    path = pool[draw(st.integers(0, len(pool) - 1))]
    target = get(payload, path)
    kinds = ["replace", "replace"]
    if path and isinstance(get(payload, path[:-1]), dict):
        kinds.append("delete")
    if isinstance(target, list):
        kinds += ["duplicate", "empty"]
    if looks_like_time(target):
        kinds += ["time", "time"]
    kind = draw(st.sampled_from(kinds))
    if kind == "delete":
        del get(payload, path[:-1])[path[-1]]
        return payload
    if kind == "duplicate":
        return replaced(payload, path, target + copy.deepcopy(target))
    if kind == "empty":
        return replaced(payload, path, [])
    if kind == "time":
        new = draw(st.one_of(st.sampled_from(ODD_TIMES), st.sampled_from(ODD_NUMBERS)))
        return replaced(payload, path, new)
    return replaced(payload, path, draw(json_values(max_size)))


@st.composite
def deliveries(draw: st.DrawFn, kind: str, max_size: int = 5_000) -> tuple[str, Headers, Any]:
    """(fixture name, headers, payload): a real payload with one to four mutations, made
    exactly as JSON bytes would parse (orjson, like the pipeline)."""
    name = draw(st.sampled_from(FIXTURES[kind]))
    payload = orjson.loads(RAW[name])  # a fresh copy, faster than copy.deepcopy
    for _ in range(draw(st.integers(1, 4))):
        payload = draw(mutation(payload, max_size))
    headers = event_header(kind, name)
    if headers and draw(st.integers(0, 4)) == 0:
        # Now and then the header names another event than the body holds.
        header = next(iter(headers))
        others = sorted({h for n in FIXTURES[kind] for h in event_header(kind, n).values()})
        headers = {header: draw(st.sampled_from([*others, "", "ping", "\u00e9v\u00e9nement"]))}
    return name, headers, orjson.loads(orjson.dumps(payload))


# The verdict of an adapter ---------------------------------------------------------------------

Verdict = tuple[str, object]


def verdict(kind: str, headers: Headers, payload: Any) -> Verdict:
    """What the adapter makes of a delivery: ("mapped", Mapped), ("unsupported", reason) or
    ("invalid", PayloadError). Anything else it raises fails the test."""
    adapter = source_for(kind).adapter
    delivery = Delivery(headers=headers, payload=payload)
    # Read before the payload is checked: never raise, whatever it holds.
    name = adapter.event_type(delivery)
    assert isinstance(name, str) and name
    key = source_for(kind).replay.delivery_key(delivery)
    assert key is None or isinstance(key, str)
    try:
        mapped = adapter.parse(delivery, OPTIONS)
    except Unsupported as exc:
        assert str(exc), "an unsupported delivery says why"
        return "unsupported", str(exc)
    except PayloadError as exc:
        assert isinstance(exc.pointer, str) and isinstance(exc.detail, str) and exc.detail
        assert exc.pointer == "" or exc.pointer.startswith(("/", "#")), exc.pointer
        return "invalid", exc
    assert isinstance(mapped, Mapped)
    # Whatever is mapped passes the models' validation again, unchanged.
    again = Mapped.model_validate(mapped.model_dump())
    assert again == mapped
    instants = [e.occurred_at for e in mapped.incidents] + [e.occurred_at for e in mapped.changes]
    assert all(at.utcoffset() is not None for at in instants)
    return "mapped", mapped


def fuzz_test(kind: str) -> Callable[[], None]:
    @FUZZ
    @given(deliveries(kind))
    def run(example: tuple[str, Headers, Any]) -> None:
        _, headers, payload = example
        RAN[kind][verdict(kind, headers, payload)[0]] += 1

    return run


def assert_fuzzed(kind: str, *, share: int = 5) -> None:
    """The adapter of `kind` fuzzed on its fixtures: it never raises anything but its
    documented refusals (also run by the tests of sources added since, on theirs); at least
    one example in `share` maps, and one in `share` is refused as invalid."""
    RAN[kind].clear()
    fuzz_test(kind)()
    verdicts = RAN[kind]
    assert sum(verdicts.values()) >= PURE_EXAMPLES, verdicts
    # The mutations reach what the adapter reads: many are refused, many still map.
    assert verdicts["mapped"] >= PURE_EXAMPLES // MAPPED_SHARE.get(kind, share), verdicts
    assert verdicts["invalid"] >= PURE_EXAMPLES // share, verdicts


@pytest.mark.parametrize("kind", KINDS)
def test_adapter_never_raises_anything_but_its_documented_refusals(kind: str) -> None:
    assert_fuzzed(kind)


@pytest.mark.parametrize("kind", KINDS)
def test_the_unmutated_fixtures_map_or_are_refused_as_documented(kind: str) -> None:
    """The control: the real payloads themselves go through the same checks."""
    outcomes = collections.Counter(
        verdict(kind, event_header(kind, name), PAYLOADS[name])[0] for name in FIXTURES[kind]
    )
    assert outcomes["mapped"] >= 1, outcomes
    assert outcomes["invalid"] == 0, outcomes


def test_the_fuzz_ran_for_every_adapter() -> None:
    # Sources added since run `assert_fuzzed` on their fixtures from their own tests
    # (tests/ingest/sources/<kind>/).
    assert set(KINDS) == set(SOURCES) <= set(FIXTURES)
    assert all(FIXTURES[kind] for kind in KINDS)


# Through the HTTP endpoint ---------------------------------------------------------------------


def drawn(kind: str, count: int) -> list[tuple[str, Headers, Any]]:
    """`count` examples of the strategy, the same on every run."""
    found: list[tuple[str, Headers, Any]] = []

    @settings(
        max_examples=count, derandomize=True, database=None, deadline=None,
        phases=[Phase.generate], suppress_health_check=list(HealthCheck),
    )  # fmt: skip
    @given(deliveries(kind, max_size=200))
    def collect(example: tuple[str, Headers, Any]) -> None:
        found.append(example)

    collect()
    return found


@pytest.mark.parametrize("kind", KINDS)
async def test_mutated_deliveries_through_the_endpoint_are_never_a_server_error(
    client: httpx.AsyncClient, admin: Headers, con: dbmod.Connection, kind: str
) -> None:
    await make_catalog(con)
    await make_sources(con)
    examples = drawn(kind, HTTP_EXAMPLES)
    assert len(examples) == HTTP_EXAMPLES
    for name, headers, payload in examples:
        body = orjson.dumps(payload)
        sent = {**signed(kind, body, event=False), **headers}
        logged = await con.fetchval("select count(*) from delivery")
        # Header values go on the wire as Latin-1 bytes, as HTTP carries them.
        wire = [(key.encode(), value.encode("latin-1")) for key, value in sent.items()]
        resp = await client.post(webhook_path(kind), content=body, headers=wire)
        context = (name, json.dumps(payload)[:300], resp.status_code, resp.text[:300])
        assert resp.status_code < 500, context
        assert resp.status_code in (200, 202, 422), context
        duplicate = resp.status_code == 200 and resp.json()["status"] == "duplicate"
        # Logged, once: a repeat of an earlier delivery (same delivery key) is not.
        now_logged = await con.fetchval("select count(*) from delivery")
        assert now_logged == logged + (0 if duplicate else 1), context
        expected, _ = verdict(kind, {k.lower(): v for k, v in sent.items()}, payload)
        if resp.status_code == 200:
            assert resp.headers["content-type"] == "application/json", context
            assert resp.json()["status"] in ("applied", "duplicate"), context
            assert expected == "mapped" or duplicate, context
        else:
            assert resp.headers["content-type"] == PROBLEM, context
            status = {"unsupported": 202, "invalid": 422}.get(expected)
            # A mapped delivery may still be unmapped (no such service: 202) or hold text
            # Postgres cannot store (NUL: 422); a refused one is never applied.
            assert status is None or resp.status_code == status, context


def test_examples_per_adapter() -> None:
    """Not a check of the service: records how many examples the pure runs went through."""
    for kind in KINDS:
        verdicts = dict(RAN[kind])
        print(f"adapter fuzz {kind}: {sum(verdicts.values())} examples {verdicts}")
    print(f"through HTTP: {HTTP_EXAMPLES} examples per source")
    ran = [sum(RAN[kind].values()) for kind in KINDS]
    assert all(count == 0 or count >= PURE_EXAMPLES for count in ran)
