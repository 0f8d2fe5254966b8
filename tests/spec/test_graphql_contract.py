"""Queries and mutations generated from the checked-in schema.graphql, sent to POST /graphql
of the real app with an all-scopes token: never a 5xx, always a well-formed GraphQL answer,
and no error but the expected ones (bad arguments): no unexpected (masked) error, no null
where the schema promises a value."""

from __future__ import annotations

import gc
import inspect
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import graphql
import hypothesis.strategies as st
import pytest
import schemathesis
import strawberry
from schemathesis import checks
from starlette.applications import Starlette

from tests.spec import seed as seeding
from tests.spec.common import ROOT, config

SCHEMA = schemathesis.graphql.from_path(
    ROOT / "schema.graphql", config=config(**{"base-url": "http://testserver/graphql"})
)

#: What the graph answers in place of an error it did not expect (strawberry's MaskErrors).
MASKED = "Unexpected error."
#: graphql-core's error when a resolver gives null for a field the schema declares non-null.
NULL_FOR_NON_NULL = "Cannot return null for non-nullable field"


def graphql_answer(ctx: schemathesis.CheckContext, response: Any, case: schemathesis.Case) -> None:
    """No 5xx; a 200 is a GraphQL response whose errors are all expected ones: bad arguments
    are reported as errors, but an unexpected exception (masked) or a null where the schema
    promises a value is a bug. (schemathesis' own GraphQL check counts every error that has a
    `path` as a server error, bad arguments included, so it is not used.)"""
    assert response.status_code < 500, f"server error {response.status_code}: {response.text}"
    if response.status_code != 200:
        return
    body = response.json()
    assert isinstance(body, dict), "a GraphQL response is a JSON object"
    assert set(body) <= {"data", "errors", "extensions"} and ("data" in body or "errors" in body)
    for error in body.get("errors") or []:
        assert isinstance(error, dict) and isinstance(error.get("message"), str), error
        assert error["message"] != MASKED, f"unexpected error (see the log): {error}"
        assert NULL_FOR_NON_NULL not in error["message"], error
        # An execution error (with a path) saying a value cannot be represented is an output
        # the schema does not allow (a NaN, an out-of-range Int, an unknown enum value);
        # arguments that cannot be coerced are refused before execution, without a path.
        assert not ("path" in error and "cannot represent" in error["message"]), error


CHECKS = [graphql_answer, checks.response_schema_conformance]

#: Which kind of row an argument (or input field) names: by (field, argument), else by argument.
ARG_KINDS: dict[tuple[str, str] | str, str] = {
    "key": "kpi",
    "kpi": "kpi",
    "service": "service",
    "team": "team",
    "outcome": "outcome",
    "source": "source",
    ("service", "slug"): "service",
    ("deleteService", "slug"): "service",
    ("outcome", "slug"): "outcome",
    ("incident", "id"): "incident",
    ("change", "id"): "change",
    ("deleteTarget", "id"): "target",
    ("acknowledgeEscalation", "id"): "escalation",
    ("resolveEscalation", "id"): "escalation",
}


class _NameSeededRows(graphql.Visitor):
    """Replaces string and int arguments naming a row (kpi keys, slugs, ids) by seeded keys."""

    def __init__(self, known: dict[str, list[Any]], pick: int) -> None:
        super().__init__()
        self.known = known
        self.pick = pick
        self.fields: list[str] = []
        self.replaced = False

    def enter_field(self, node: graphql.FieldNode, *_: Any) -> None:
        self.fields.append(node.name.value)

    def leave_field(self, node: graphql.FieldNode, *_: Any) -> None:
        self.fields.pop()

    def _value(self, name: str, value: graphql.ValueNode) -> graphql.ValueNode | None:
        field = self.fields[-1] if self.fields else ""
        kind = ARG_KINDS.get((field, name)) or ARG_KINDS.get(name)
        rows = self.known.get(kind or "", [])
        if not rows or not isinstance(value, graphql.StringValueNode | graphql.IntValueNode):
            return None
        row = rows[self.pick % len(rows)]
        self.replaced = True
        if isinstance(row, int):
            return graphql.IntValueNode(value=str(row))
        return graphql.StringValueNode(value=str(row))

    def enter_argument(self, node: graphql.ArgumentNode, *_: Any) -> Any:
        value = self._value(node.name.value, node.value)
        return None if value is None else graphql.ArgumentNode(name=node.name, value=value)

    def enter_object_field(self, node: graphql.ObjectFieldNode, *_: Any) -> Any:
        value = self._value(node.name.value, node.value)
        return None if value is None else graphql.ObjectFieldNode(name=node.name, value=value)


def _with_seeded_rows(query: str, known: dict[str, list[Any]]) -> list[str]:
    try:
        document = graphql.parse(query)
    except graphql.GraphQLError:
        return []
    out = []
    for pick in range(3):
        visitor = _NameSeededRows(known, pick)
        changed = graphql.visit(document, visitor)
        if visitor.replaced:
            out.append(graphql.print_ast(changed))
    return out


@SCHEMA.hook
def flatmap_body(context: schemathesis.HookContext, body: Any) -> st.SearchStrategy[Any]:
    """The generated query, or the same naming seeded rows (so resolvers run on real data)."""
    seeded = seeding.SEEDED
    if seeded is None or not isinstance(body, str):
        return st.just(body)
    variants = _with_seeded_rows(body, seeded.known)
    return st.one_of(st.just(body), st.sampled_from(variants)) if variants else st.just(body)


#: Where the resolver coroutines come from: graphql-core's executor and strawberry's resolvers.
_RESOLVERS_CODE = tuple(str(Path(m.__file__ or "").parent) for m in (graphql, strawberry))


@pytest.fixture(scope="module", autouse=True)
def _cancelled_resolvers_are_not_errors() -> Iterator[None]:
    """graphql-core cancels the pending sibling resolvers of a field whose error nulls their
    parent (a bad argument, say): a resolver coroutine created but cancelled before it started
    is reported as never awaited when it is collected, at whatever moment the collector runs.
    The answer is right; the report is the library's, and not made a test failure here."""
    report = sys.unraisablehook

    def hook(unraisable: sys.UnraisableHookArgs) -> None:
        what = unraisable.object
        if inspect.iscoroutine(what) and what.cr_code.co_filename.startswith(_RESOLVERS_CODE):
            return
        report(unraisable)

    sys.unraisablehook = hook
    try:
        yield
        gc.collect()
    finally:
        sys.unraisablehook = report


@SCHEMA.parametrize()
def test_graphql_contract(
    case: schemathesis.Case, spec_app: Starlette, bearer: dict[str, str]
) -> None:
    case.call_and_validate(app=spec_app, headers=dict(bearer), checks=CHECKS)
