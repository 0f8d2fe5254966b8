"""Execution with a short path for plain scalar fields.

A page of a hundred services with their KPIs, targets and statuses holds tens of thousands of
fields, most of them an attribute read and a scalar's serialisation. graphql-core runs each one
through the whole field machinery (resolve info, resolver, awaitable checks, value completion).
For a field that strawberry resolves by reading an attribute (no resolver, no extension, no
argument) and whose type is a scalar or enum, this reads the attribute and serialises it
directly; anything out of the ordinary (an error, a null for a non-null field, a value the
scalar refuses, resolver middleware) goes the ordinary way, so answers and errors are the same.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from graphql import (
    GraphQLField,
    GraphQLLeafType,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    OperationType,
    Undefined,
    is_leaf_type,
    is_non_null_type,
    is_object_type,
)
from graphql.execution.collect_fields import FieldDetailsList
from graphql.pyutils import Path
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField

#: Each field's plan, None for a field that takes the ordinary path; keyed by id(field),
#: holding the field so the id stays its own.
#: How a plain field reads out: the default resolver, the attribute, the scalar type and
#: whether it is nullable.
Plan = tuple[Any, str, GraphQLLeafType, bool]
_plans: dict[int, tuple[GraphQLField, Plan | None]] = {}


def _plan(field: GraphQLField) -> Plan | None:
    found = _plans.get(id(field))
    if found is not None and found[0] is field:
        return found[1]
    plan = None
    definition = field.extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF)
    resolve = field.resolve
    if (
        isinstance(definition, StrawberryField)
        and resolve is not None
        # strawberry's resolver of a field with no resolver, extension nor error handler,
        # which reads the attribute with the configured default resolver
        and getattr(resolve, "__name__", "") == "_get_basic_result"
        and definition.is_basic_field
        and not field.args
    ):
        nullable = not is_non_null_type(field.type)
        inner = field.type if nullable else field.type.of_type  # type: ignore[union-attr]
        if is_leaf_type(inner):
            read = definition.default_resolver
            name = definition.python_name
            plan = (read, name, inner, nullable)
    _plans[id(field)] = (field, plan)
    return plan


#: One selected field of a plain object: response name, and its plan (None: __typename).
PlainField = tuple[str, Plan | None]


class ExecutionContext(StrawberryGraphQLCoreExecutionContext):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        middleware = self.middleware_manager
        self._plain = middleware is None or not middleware._middleware_resolvers
        #: Per object type and selection: its fields' plans when every selected field is a
        #: plain scalar one (else None); keeps the selection alive, so its id stays its own.
        self._objects: dict[tuple[GraphQLObjectType, int], tuple[Any, list[PlainField] | None]]
        self._objects = {}
        #: A query's answers for an object and a selection already answered, error-free and
        #: at once: the same KPI under a hundred services is completed once. Kept with the
        #: object and the selection, so their ids stay their own.
        self._answers: dict[tuple[int, int], tuple[Any, Any, Any]] | None = None
        if self.operation.operation is OperationType.QUERY:
            self._answers = {}

    def _object_plan(
        self, return_type: GraphQLObjectType, field_details_list: FieldDetailsList
    ) -> list[PlainField] | None:
        key = (return_type, id(field_details_list))
        found = self._objects.get(key)
        if found is not None:
            return found[1]
        grouped, defers, _ = self.collect_subfields(return_type, field_details_list)
        plan: list[PlainField] | None = [] if not defers else None
        for name, details in grouped.items():
            if plan is None:
                break
            node = details[0].node
            if node.name.value == "__typename":
                plan.append((name, None))
                continue
            field = return_type.fields.get(node.name.value)
            leaf = None if field is None or node.arguments else _plan(field)
            if leaf is None:
                plan = None
            else:
                plan.append((name, leaf))
        self._objects[key] = (field_details_list, plan)
        return plan

    def _plain_object(
        self, return_type: GraphQLObjectType, plan: list[PlainField], source: Any
    ) -> dict[str, Any] | None:
        """The object's answer when every field reads out plainly, else None."""
        out: dict[str, Any] = {}
        for name, field in plan:
            if field is None:
                out[name] = return_type.name
                continue
            read, attribute, leaf, nullable = field
            try:
                value = read(source, attribute)
                if value is None or value is Undefined:
                    if not nullable:
                        return None
                    out[name] = None
                    continue
                if isinstance(value, Exception) or self.is_awaitable(value):
                    return None
                coerced = leaf.coerce_output_value(value)
            except Exception:
                return None
            if coerced is None or coerced is Undefined:
                return None
            out[name] = coerced
        return out

    def complete_iterable_value(
        self,
        item_type: GraphQLOutputType,
        field_details_list: FieldDetailsList,
        info: GraphQLResolveInfo[Any],
        path: Path,
        items: Iterable[Any],
        position_context: Any,
    ) -> Any:
        if self._plain and isinstance(items, list | tuple):
            nullable = not is_non_null_type(item_type)
            inner = item_type if nullable else item_type.of_type  # type: ignore[union-attr]
            if (
                is_object_type(inner)
                and not inner.is_type_of
                and not self.get_stream_usage(field_details_list, path)
            ):
                out = self._plain_list(inner, field_details_list, items, nullable)
                if out is not None:
                    return out
        return super().complete_iterable_value(
            item_type, field_details_list, info, path, items, position_context
        )

    def _plain_list(
        self,
        item_type: GraphQLObjectType,
        field_details_list: FieldDetailsList,
        items: Sequence[Any],
        nullable: bool,
    ) -> list[Any] | None:
        """A list of plain objects answered in one loop, else None."""
        plan = self._object_plan(item_type, field_details_list)
        if plan is None:
            return None
        out: list[Any] = []
        for item in items:
            if item is None or item is Undefined:
                if not nullable:
                    return None
                out.append(None)
                continue
            if isinstance(item, Exception) or self.is_awaitable(item):
                return None
            done = self._plain_object(item_type, plan, item)
            if done is None:
                return None
            out.append(done)
        return out

    def collect_and_execute_subfields(
        self,
        return_type: GraphQLObjectType,
        field_details_list: FieldDetailsList,
        path: Path,
        result: Any,
        position_context: Any,
    ) -> Any:
        if self._plain:
            plan = self._object_plan(return_type, field_details_list)
            if plan is not None:
                plain = self._plain_object(return_type, plan, result)
                if plain is not None:
                    return plain
        memo = self._answers
        if memo is None:
            return super().collect_and_execute_subfields(
                return_type, field_details_list, path, result, position_context
            )
        key = (id(result), id(field_details_list))
        held = memo.get(key)
        if held is not None and held[0] is result and held[1] is field_details_list:
            return held[2]
        errors = len(self.collected_errors.errors)
        out = super().collect_and_execute_subfields(
            return_type, field_details_list, path, result, position_context
        )
        if not self.is_awaitable(out) and len(self.collected_errors.errors) == errors:
            memo[key] = (result, field_details_list, out)
        return out

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: FieldDetailsList,
        path: Path,
        position_context: Any,
    ) -> Any:
        if self._plain:
            node = field_details_list[0].node
            field = parent_type.fields.get(node.name.value)
            plan = None if field is None or node.arguments else _plan(field)
            if plan is not None:
                read, attribute, leaf, nullable = plan
                try:
                    value = read(source, attribute)
                    if value is None or value is Undefined:
                        if nullable:
                            return None
                    elif not isinstance(value, Exception) and not self.is_awaitable(value):
                        coerced = leaf.coerce_output_value(value)
                        if coerced is not None and coerced is not Undefined:
                            return coerced
                except Exception:  # the ordinary path reports it
                    pass
        return super().execute_field(
            parent_type, source, field_details_list, path, position_context
        )
