"""The static cost of a GraphQL operation, computed from its document, variables and arguments
before anything runs.

Each field costs its weight (1 for most) times the product of the sizes of the lists that
enclose it. A list's size is, in order:

- under a field with a `first` argument (a connection, or a list taking `first`): `first`, or
  the argument's default, at most MAX_PAGE; a connection's `nodes` and `edges` are its lists;
- a `series`: its number of buckets (see `series_buckets`), which is also its weight;
- a list kept small by validation or by the domain: its bound (LIST_SIZES);
- introspection lists: the largest such list in the schema;
- any other list of objects: MAX_PAGE, as if it were a full page.

Lists of scalars or enums are leaves: one unit, like any scalar field. Fragments and inline
fragments count where they are spread; a response key selected twice merges as it does at
execution; fields under `@skip(if: true)` or `@include(if: false)` count nothing. Branches
of a union or interface all count (an upper bound).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLIncludeDirective,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLSkipDirective,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionNode,
    SelectionSetNode,
    VariableValues,
    get_argument_values,
    get_directive_values,
    get_named_type,
    get_nullable_type,
    get_operation_ast,
    get_variable_values,
    is_leaf_type,
    is_list_type,
    type_from_ast,
)

from service.kpi.periods import DEFAULT_SPAN, advance, truncate
from service.models.enums import Grain, Severity

#: The largest page any `first` may ask for; also the size counted for unbounded lists.
MAX_PAGE = 100

#: Lists that stay lists because something else bounds them, counted at that bound.
LIST_SIZES: Mapping[tuple[str, str], int] = {
    # escalation paths are at most 20 steps (KpiIn.escalation_path max_length)
    ("Kpi", "escalationPath"): 20,
    # one group per severity
    ("IncidentReport", "bySeverity"): len(Severity),
    # Service.incidentStats, the report's only use, is about its one service
    ("IncidentReport", "byService"): 1,
    # an initiative links at most 50 services and 50 KPIs (InitiativeIn)
    ("Initiative", "services"): 50,
    ("Initiative", "kpis"): 50,
    ("InitiativeReview", "kpis"): 50,
    # one amount per currency other than the budget's
    ("InitiativeSpend", "otherCurrencies"): 20,
}

#: The weight of fields that compute a report rather than read rows (any field of that name
#: returning an object or a list of objects). `series` is weighed by its buckets instead.
REPORT_WEIGHTS: Mapping[str, int] = {
    "status": 10,  # a KPI's status: stored, or evaluated now
    "availability": 10,  # outage intervals merged over the window
    "deployGate": 10,  # availability over the policy's window
    "incidentStats": 10,  # duration statistics by severity
    "dora": 10,  # the four DORA keys and the rework rate
    "spend": 5,  # cost records spread over days
    "health": 20,  # every contributing KPI's status
    "servicesAtRisk": 20,  # statuses, open outages and the dependency graph
    "scorecard": 50,  # every board-level KPI's status
    "governanceGaps": 5,  # one pass over the catalog
    "review": 20,  # an initiative's spend and two windows of each linked KPI
}

#: Introspection lists: (type, field) -> how to measure the schema for its largest size.
_INTROSPECTION_LISTS = {
    ("__Schema", "types"),
    ("__Schema", "directives"),
    ("__Type", "fields"),
    ("__Type", "interfaces"),
    ("__Type", "possibleTypes"),
    ("__Type", "enumValues"),
    ("__Type", "inputFields"),
    ("__Field", "args"),
    ("__Directive", "args"),
}


class CostError(ValueError):
    """The cost cannot be computed (e.g. variables that do not coerce); execution reports
    the same problem before resolving anything."""


def bucket_count(grain: Grain, start: dt.datetime, end: dt.datetime) -> int:
    """How many buckets of `grain` overlap [start, end), without listing them."""
    if end <= start:
        return 0
    first = truncate(grain, start)
    last = truncate(grain, end - dt.timedelta(microseconds=1))
    if grain in (Grain.HOUR, Grain.DAY, Grain.WEEK):
        step = {Grain.HOUR: 3600, Grain.DAY: 86_400, Grain.WEEK: 7 * 86_400}[grain]
        return int((last - first).total_seconds()) // step + 1
    months = {Grain.MONTH: 1, Grain.QUARTER: 3, Grain.YEAR: 12}[grain]
    span = (last.year - first.year) * 12 + last.month - first.month
    return span // months + 1


def series_buckets(
    grain: Grain, start: dt.datetime | None, end: dt.datetime | None, now: dt.datetime
) -> int:
    """The buckets a series is counted for: those overlapping [from, to), `to` defaulting to
    now and `from` to the grain's default span back from `to` (30 days, 48 hours, ...), as a
    builtin KPI's series does. At least one."""
    stop = end if end is not None else now
    try:
        begin = start if start is not None else advance(grain, truncate(grain, stop),
                                                        -(DEFAULT_SPAN[grain] - 1))  # fmt: skip
        return max(1, bucket_count(grain, begin, stop))
    except (OverflowError, ValueError):  # an instant at the calendar's edge: refused later
        return 1


@functools.cache
def _introspection_sizes(schema: GraphQLSchema) -> dict[tuple[str, str], int]:
    types = list(schema.type_map.values())

    def largest(values: Iterable[int]) -> int:
        return max([1, *values])

    fields = [f for t in types for f in getattr(t, "fields", {}).values()]
    return {
        ("__Schema", "types"): len(types),
        ("__Schema", "directives"): largest([len(schema.directives)]),
        ("__Type", "fields"): largest(len(getattr(t, "fields", {})) for t in types),
        ("__Type", "inputFields"): largest(
            len(t.fields) for t in types if hasattr(t, "fields") and not hasattr(t, "interfaces")
        ),
        ("__Type", "interfaces"): largest(len(getattr(t, "interfaces", ())) for t in types),
        ("__Type", "possibleTypes"): largest(len(getattr(t, "types", ())) for t in types),
        ("__Type", "enumValues"): largest(len(getattr(t, "values", {})) for t in types),
        ("__Field", "args"): largest(len(getattr(f, "args", {})) for f in fields),
        ("__Directive", "args"): largest(len(d.args) for d in schema.directives),
    }


@dataclass
class _Walk:
    schema: GraphQLSchema
    fragments: dict[str, FragmentDefinitionNode]
    variables: VariableValues
    now: dt.datetime
    #: fields whose arguments did not coerce: execution refuses them, they count as 1
    refused: list[str] = field(default_factory=list)

    def included(self, node: SelectionNode) -> bool:
        skip = get_directive_values(GraphQLSkipDirective, node, self.variables)
        if skip is not None and skip.get("if") is True:
            return False
        include = get_directive_values(GraphQLIncludeDirective, node, self.variables)
        return not (include is not None and include.get("if") is False)

    def collect(
        self, parent: GraphQLNamedType, selections: SelectionSetNode,
        into: dict[tuple[str, str], tuple[GraphQLNamedType, list[FieldNode]]],
        seen: frozenset[str] = frozenset(),
    ) -> None:  # fmt: skip
        """The fields of a selection set by (type, response key), fragments flattened."""
        for node in selections.selections:
            if not self.included(node):
                continue
            if isinstance(node, FieldNode):
                key = (parent.name, node.alias.value if node.alias else node.name.value)
                into.setdefault(key, (parent, []))[1].append(node)
                continue
            if isinstance(node, FragmentSpreadNode):
                name = node.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in seen:
                    continue
                on = type_from_ast(self.schema, fragment.type_condition)
                self.collect(on or parent, fragment.selection_set, into, seen | {name})
            elif isinstance(node, InlineFragmentNode):
                on = (type_from_ast(self.schema, node.type_condition)
                      if node.type_condition else parent)  # fmt: skip
                self.collect(on or parent, node.selection_set, into, seen)

    def arguments(self, definition: GraphQLField, node: FieldNode) -> dict[str, Any]:
        try:
            return get_argument_values(definition, node, self.variables)
        except GraphQLError:
            self.refused.append(node.name.value)
            return {}

    def cost(self, parent: GraphQLNamedType, selections: list[FieldNode], outer: int,
             page: int | None) -> int:  # fmt: skip
        """Cost of the fields selected on `parent`, each enclosed by lists of product
        `outer`; `page` is the page size of the connection `parent` is (None if not one)."""
        grouped: dict[tuple[str, str], tuple[GraphQLNamedType, list[FieldNode]]] = {}
        for node in selections:
            if node.selection_set is not None:
                self.collect(parent, node.selection_set, grouped)
        return sum(self.field_cost(t, nodes, outer, page) for t, nodes in grouped.values())

    def field_cost(self, parent: GraphQLNamedType, nodes: list[FieldNode], outer: int,
                   page: int | None) -> int:  # fmt: skip
        node = nodes[0]
        name = node.name.value
        fields = getattr(parent, "fields", None)
        definition = fields.get(name) if fields is not None else None
        if definition is None:  # __typename, or a field validation would have refused
            return outer
        args = self.arguments(definition, node)
        of = get_nullable_type(definition.type)
        named = get_named_type(definition.type)
        if is_leaf_type(named):
            return outer
        weight = REPORT_WEIGHTS.get(name, 1)
        own_page = _page(args) if "first" in definition.args else None
        inner = outer
        if is_list_type(of):
            size = self.list_size(parent.name, name, args, own_page, page)
            if name == "series":
                weight = size
            inner = outer * size
            own_page = None  # a list taking `first` is its own page
        return weight * outer + self.cost(named, nodes, inner, own_page)

    def list_size(self, parent: str, name: str, args: Mapping[str, Any], own_page: int | None,
                  page: int | None) -> int:  # fmt: skip
        if own_page is not None:
            return own_page
        if page is not None:
            return page
        if name == "series":
            return series_buckets(_grain(args.get("grain")), _instant(args.get("from")),
                                  _instant(args.get("to")), self.now)  # fmt: skip
        if (parent, name) in LIST_SIZES:
            return LIST_SIZES[(parent, name)]
        if (parent, name) in _INTROSPECTION_LISTS:
            return _introspection_sizes(self.schema)[(parent, name)]
        return MAX_PAGE


def _grain(value: Any) -> Grain:
    """A grain argument, as an enum member or its schema name (HOUR); DAY when absent."""
    if isinstance(value, Grain):
        return value
    if isinstance(value, str) and value in Grain.__members__:
        return Grain[value]
    return Grain.DAY


def _instant(value: Any) -> dt.datetime | None:
    """An instant argument, parsed or as its text; None when absent or not an instant with a
    zone (the resolver refuses those)."""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return None
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value
    return None


def _page(args: Mapping[str, Any]) -> int:
    first = args.get("first")
    if not isinstance(first, int):
        return MAX_PAGE
    return min(max(first, 1), MAX_PAGE)


def _fragments(document: DocumentNode) -> Iterator[FragmentDefinitionNode]:
    for definition in document.definitions:
        if isinstance(definition, FragmentDefinitionNode):
            yield definition


def operation_cost(
    schema: GraphQLSchema, document: DocumentNode, operation_name: str | None,
    variables: Mapping[str, Any] | None, now: dt.datetime,
) -> int:  # fmt: skip
    """The cost of the operation a request runs (a validated document); CostError when
    there is no such operation or its variables do not coerce."""
    operation = get_operation_ast(document, operation_name)
    if not isinstance(operation, OperationDefinitionNode):
        raise CostError("no operation to run")
    coerced = get_variable_values(
        schema, operation.variable_definitions or (), dict(variables or {})
    )
    if isinstance(coerced, list):
        raise CostError("; ".join(e.message for e in coerced))
    root = {
        OperationType.QUERY: schema.query_type,
        OperationType.MUTATION: schema.mutation_type,
        OperationType.SUBSCRIPTION: schema.subscription_type,
    }[operation.operation]
    if not isinstance(root, GraphQLObjectType):
        raise CostError(f"the schema has no {operation.operation.value} type")
    walk = _Walk(schema, {f.name.value: f for f in _fragments(document)}, coerced, now)
    grouped: dict[tuple[str, str], tuple[GraphQLNamedType, list[FieldNode]]] = {}
    walk.collect(root, operation.selection_set, grouped)
    return sum(walk.field_cost(t, nodes, 1, None) for t, nodes in grouped.values())
