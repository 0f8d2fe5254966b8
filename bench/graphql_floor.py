"""The floor of stock GraphQL execution for a page: graphql-core (the engine under strawberry)
completing exactly our answer from memory, with its default resolvers reading the answer's own
dicts (no database, no resolvers of ours, no strawberry, no HTTP).

Whatever the service does before completion (reading the rows, building objects) comes on top
of it, so for a query whose answer has N fields no server running stock execution on this
machine can answer in less CPU than this: graphql-core completes every field one by one.
`kpi bench graphql-portal` prints it beside PostGraphile's figures.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Any

from graphql import build_schema, execute_sync, parse, validate

SCHEMA = Path(__file__).resolve().parent.parent / "schema.graphql"


def count_fields(value: Any) -> int:
    """The fields of an answer: every member of every object."""
    if isinstance(value, dict):
        return len(value) + sum(count_fields(v) for v in value.values())
    if isinstance(value, list):
        return sum(count_fields(v) for v in value)
    return 0


def completion_floor(
    answer: dict[str, Any], query: str, variables: dict[str, Any], runs: int = 15
) -> float:
    """Median CPU seconds for graphql-core to complete `query` over `answer` (the `data` of
    our own answer to it), checked to give that same answer back."""
    schema = build_schema(SCHEMA.read_text())
    document = parse(query)
    errors = validate(schema, document)
    if errors:
        raise ValueError(f"the query does not validate against schema.graphql: {errors[0]}")
    result = execute_sync(schema, document, root_value=answer, variable_values=variables)
    if result.errors or result.data != answer:
        raise ValueError("graphql-core did not give the answer back unchanged")
    times = []
    for _ in range(runs):
        began = time.process_time()
        execute_sync(schema, document, root_value=answer, variable_values=variables)
        times.append(time.process_time() - began)
    return statistics.median(times)
