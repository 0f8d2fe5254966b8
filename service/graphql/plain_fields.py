"""Execution with a short path for plain scalar fields, on graphql-core's and strawberry's
public API.

A page of a hundred services with their KPIs, targets and statuses holds tens of thousands of
fields, most of them an attribute read and a scalar's serialisation. graphql-core runs each one
through the whole field machinery (resolve info, resolver, awaitable checks, value completion).
For a field strawberry calls basic (`StrawberryField.is_basic_field`: no resolver, no
extension) that takes no argument and whose type is a scalar or an enum, this reads the
attribute with the field's own default resolver and serialises it with the scalar's own
`coerce_output_value`; anything out of the ordinary (an error, a null for a non-null field, a
value the scalar refuses, resolver middleware, @defer or @stream) goes the ordinary way, so
answers and errors are the same. tests/graphql/test_plain_fields.py runs the same queries
through this and through stock execution and requires the same answers.

Passed to strawberry as the schema's `execution_context_class`, the hook graphql-core's
`execute` offers for this.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, ClassVar

from graphql import (
    GraphQLField,
    GraphQLLeafType,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
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

#: How a plain field reads out: the default resolver, the attribute, the scalar type and
#: whether it is nullable.
Plan = tuple[Any, str, GraphQLLeafType, bool]
#: One selected field of a plain object: response name, and its plan (None: __typename).
PlainField = tuple[str, Plan | None]


def field_plan(field: GraphQLField) -> Plan | None:
    """The plan of a plain scalar field, None for one that takes the ordinary path."""
    definition = field.extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF)
    if not isinstance(definition, StrawberryField) or not definition.is_basic_field:
        return None
    if field.args or field.resolve is None:
        return None
    nullable = not is_non_null_type(field.type)
    inner = field.type if nullable else field.type.of_type  # type: ignore[union-attr]
    if not is_leaf_type(inner):
        return None
    return (definition.default_resolver, definition.python_name, inner, nullable)


class PlainFieldsExecutionContext(StrawberryGraphQLCoreExecutionContext):
    #: Off, every method below is graphql-core's own (tests compare the two).
    enabled: ClassVar[bool] = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        middleware = self.middleware_manager
        #: Resolver middleware must see every field: then nothing takes the short path.
        self.plain = self.enabled and (middleware is None or not middleware.middlewares)
        #: Per field, its plan; per object type and selection, its fields' plans when every
        #: selected field is plain (else None). Each keeps its key's object alive, so an id
        #: stays its own for the request.
        self.fields: dict[int, tuple[GraphQLField, Plan | None]] = {}
        self.objects: dict[tuple[int, int], tuple[Any, list[PlainField] | None]] = {}

    def plan_of(self, field: GraphQLField) -> Plan | None:
        found = self.fields.get(id(field))
        if found is None:
            found = (field, field_plan(field))
            self.fields[id(field)] = found
        return found[1]

    def object_plan(
        self, return_type: GraphQLObjectType, field_details_list: FieldDetailsList
    ) -> list[PlainField] | None:
        key = (id(return_type), id(field_details_list))
        found = self.objects.get(key)
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
            leaf = None if field is None or node.arguments else self.plan_of(field)
            if leaf is None:
                plan = None
            else:
                plan.append((name, leaf))
        self.objects[key] = ((return_type, field_details_list), plan)
        return plan

    def plain_object(
        self, return_type: GraphQLObjectType, plan: list[PlainField], source: Any
    ) -> dict[str, Any] | None:
        """The object's answer when every field reads out plainly, else None."""
        out: dict[str, Any] = {}
        for name, field in plan:
            if field is None:
                out[name] = return_type.name
                continue
            value = self.plain_value(field, source)
            if value is Undefined:
                return None
            out[name] = value
        return out

    def plain_value(self, plan: Plan, source: Any) -> Any:
        """A plain field's answer, or Undefined when it must take the ordinary path (which
        then reports whatever went wrong the ordinary way)."""
        read, attribute, leaf, nullable = plan
        try:
            value = read(source, attribute)
            if value is None or value is Undefined:
                return None if nullable else Undefined
            if isinstance(value, Exception) or self.is_awaitable(value):
                return Undefined
            coerced = leaf.coerce_output_value(value)
        except Exception:
            return Undefined
        return Undefined if coerced is None else coerced

    def complete_iterable_value(
        self,
        item_type: GraphQLOutputType,
        field_details_list: FieldDetailsList,
        info: GraphQLResolveInfo[Any],
        path: Path,
        items: Iterable[Any],
        position_context: Any,
    ) -> Any:
        if self.plain and isinstance(items, list | tuple):
            nullable = not is_non_null_type(item_type)
            inner = item_type if nullable else item_type.of_type  # type: ignore[union-attr]
            if (
                is_object_type(inner)
                and not inner.is_type_of
                and not self.get_stream_usage(field_details_list, path)
            ):
                out = self.plain_list(inner, field_details_list, items, nullable)
                if out is not None:
                    return out
        return super().complete_iterable_value(
            item_type, field_details_list, info, path, items, position_context
        )

    def plain_list(
        self,
        item_type: GraphQLObjectType,
        field_details_list: FieldDetailsList,
        items: Sequence[Any],
        nullable: bool,
    ) -> list[Any] | None:
        """A list of plain objects answered in one loop, else None."""
        plan = self.object_plan(item_type, field_details_list)
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
            done = self.plain_object(item_type, plan, item)
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
        if self.plain:
            plan = self.object_plan(return_type, field_details_list)
            if plan is not None:
                plain = self.plain_object(return_type, plan, result)
                if plain is not None:
                    return plain
        return super().collect_and_execute_subfields(
            return_type, field_details_list, path, result, position_context
        )

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: FieldDetailsList,
        path: Path,
        position_context: Any,
    ) -> Any:
        if self.plain:
            node = field_details_list[0].node
            field = parent_type.fields.get(node.name.value)
            plan = None if field is None or node.arguments else self.plan_of(field)
            if plan is not None:
                value = self.plain_value(plan, source)
                if value is not Undefined:
                    return value
        return super().execute_field(
            parent_type, source, field_details_list, path, position_context
        )
