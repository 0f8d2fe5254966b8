"""The Citus plan of docs/SCALING.md checked against the schema's keys: pure functions over
catalog rows (no database), so a rule is tested on a hand-built catalog as well as the real one.

The rules are Citus' documented constraints (docs.citusdata.com, "Creating and Modifying
Distributed Objects", Adding/Removing Constraints) and the refusals in its source:
- a distributed table's primary keys, unique constraints, unique indexes and exclusion
  constraints include its distribution column, which is never NULL;
- a foreign key between distributed tables joins their distribution columns, position for
  position (the tables are co-located);
- a distributed table may reference a reference table; nothing may reference a distributed table
  but a distributed table, and a distributed table references no local table;
- a foreign key whose columns include the distribution column has no ON DELETE SET NULL or SET
  DEFAULT, and no ON UPDATE CASCADE, SET NULL or SET DEFAULT;
- a reference table referencing a local table has no ON DELETE or ON UPDATE CASCADE.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

SCALING_MD = Path(__file__).resolve().parent.parent / "docs" / "SCALING.md"

DISTRIBUTED = "distributed"
REFERENCE = "reference"
LOCAL = "local"
KINDS = (DISTRIBUTED, REFERENCE, LOCAL)

PLAN_HEADER = ("table", "kind", "distribution column")
EXCEPTIONS_HEADER = ("table", "constraint", "reason")

#: pg_constraint's confdeltype / confupdtype letters.
SET_NULL, SET_DEFAULT, CASCADE = "n", "d", "c"
#: The constraint name of a violation about the table's distribution column itself (missing
#: or nullable), so an exception row can name it until a migration adds the column.
DISTRIBUTION_COLUMN = "(distribution column)"

ACTION_NAMES = {
    "a": "NO ACTION",
    "r": "RESTRICT",
    "c": "CASCADE",
    "n": "SET NULL",
    "d": "SET DEFAULT",
}


@dataclass(frozen=True)
class Key:
    """A primary key, unique constraint, unique index or exclusion constraint. `columns` holds
    column names, or an expression's text where the index has one."""

    table: str
    name: str
    kind: str
    columns: tuple[str, ...]


@dataclass(frozen=True)
class ForeignKey:
    table: str
    name: str
    columns: tuple[str, ...]
    referenced_table: str
    referenced_columns: tuple[str, ...]
    on_delete: str = "a"
    on_update: str = "a"


@dataclass(frozen=True)
class Catalog:
    """The schema's tables (partitions folded into their parent), each with its columns and
    whether each is NOT NULL, and their keys."""

    columns: Mapping[str, Mapping[str, bool]]
    keys: tuple[Key, ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = ()


@dataclass(frozen=True)
class Placement:
    table: str
    kind: str
    column: str | None


@dataclass(frozen=True)
class Plan:
    placements: Mapping[str, Placement]
    #: (table, constraint) -> reason
    exceptions: Mapping[tuple[str, str], str] = field(default_factory=dict)


@dataclass(frozen=True)
class Violation:
    table: str
    constraint: str
    problem: str

    def __str__(self) -> str:
        where = f"table {self.table}"
        if self.constraint == DISTRIBUTION_COLUMN:
            where += ", its distribution column"
        elif self.constraint:
            where += f", constraint {self.constraint}"
        return f"{where}: {self.problem}"


# -- reading the plan out of docs/SCALING.md ---------------------------------------------------


def _cells(line: str) -> tuple[str, ...]:
    return tuple(cell.strip().strip("`").strip() for cell in line.strip().strip("|").split("|"))


def markdown_tables(text: str) -> Iterator[tuple[tuple[str, ...], list[tuple[str, ...]]]]:
    """Every pipe table of a markdown text: its header cells (lower case) and its rows."""
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        is_table = lines[i].lstrip().startswith("|") and i + 1 < len(lines)
        if is_table and re.fullmatch(r"\s*\|?[\s:|-]+\|?\s*", lines[i + 1]):
            header = tuple(cell.lower() for cell in _cells(lines[i]))
            rows: list[tuple[str, ...]] = []
            i += 2
            while i < len(lines) and lines[i].lstrip().startswith("|"):
                rows.append(_cells(lines[i]))
                i += 1
            yield header, rows
        else:
            i += 1


def parse_plan(text: str) -> Plan:
    """The plan table (table | kind | distribution column) and the exceptions table
    (table | constraint | reason) of the text; each must appear once."""
    plans = [rows for header, rows in markdown_tables(text) if header == PLAN_HEADER]
    excepted = [rows for header, rows in markdown_tables(text) if header == EXCEPTIONS_HEADER]
    if len(plans) != 1 or len(excepted) != 1:
        raise ValueError(
            f"expected one table headed {' | '.join(PLAN_HEADER)} and one headed "
            f"{' | '.join(EXCEPTIONS_HEADER)}; found {len(plans)} and {len(excepted)}"
        )
    placements: dict[str, Placement] = {}
    for table, kind, column in plans[0]:
        if table in placements:
            raise ValueError(f"table {table} is planned twice")
        if kind not in KINDS:
            raise ValueError(f"table {table}: kind {kind!r} is not one of {', '.join(KINDS)}")
        placements[table] = Placement(table, kind, column if column not in ("", "-") else None)
    exceptions: dict[tuple[str, str], str] = {}
    for table, constraint, reason in excepted[0]:
        if (table, constraint) in exceptions:
            raise ValueError(f"the exception for {table} {constraint} is listed twice")
        exceptions[(table, constraint)] = reason
    return Plan(placements, exceptions)


def load_plan(path: Path = SCALING_MD) -> Plan:
    return parse_plan(path.read_text(encoding="utf-8"))


# -- the rules -----------------------------------------------------------------------------------


def _plan_violations(catalog: Catalog, plan: Plan) -> Iterator[Violation]:
    for table in sorted(set(catalog.columns) - set(plan.placements)):
        yield Violation(
            table,
            "",
            f"not in the plan: add the row `| {table} | distributed, reference or local | "
            "distribution column or - |` to the plan table of docs/SCALING.md",
        )
    for table in sorted(set(plan.placements) - set(catalog.columns)):
        yield Violation(
            table, "", "planned in docs/SCALING.md but not in the schema: remove its row"
        )
    for placement in plan.placements.values():
        columns = catalog.columns.get(placement.table)
        if columns is None:
            continue
        if placement.kind != DISTRIBUTED:
            if placement.column is not None:
                yield Violation(
                    placement.table, "", f"a {placement.kind} table has no distribution column"
                )
        elif placement.column is None or placement.column not in columns:
            yield Violation(
                placement.table,
                DISTRIBUTION_COLUMN,
                f"distribution column {placement.column or '-'} is not a column of the table",
            )
        elif not columns[placement.column]:
            yield Violation(
                placement.table,
                DISTRIBUTION_COLUMN,
                f"distribution column {placement.column} may be NULL: Citus refuses a row without "
                "a distribution value",
            )


def _key_violations(catalog: Catalog, plan: Plan) -> Iterator[Violation]:
    for key in catalog.keys:
        placement = plan.placements.get(key.table)
        if placement is None or placement.kind != DISTRIBUTED:
            continue
        if placement.column not in key.columns:
            yield Violation(
                key.table,
                key.name,
                f"{key.kind} ({', '.join(key.columns)}) lacks the distribution column "
                f"{placement.column}: Citus enforces it only within one shard",
            )


def _actions_violation(fk: ForeignKey) -> str | None:
    if fk.on_delete in (SET_NULL, SET_DEFAULT):
        return f"ON DELETE {ACTION_NAMES[fk.on_delete]}"
    if fk.on_update in (SET_NULL, SET_DEFAULT, CASCADE):
        return f"ON UPDATE {ACTION_NAMES[fk.on_update]}"
    return None


def _foreign_key_problem(fk: ForeignKey, plan: Plan) -> str | None:
    source = plan.placements.get(fk.table)
    target = plan.placements.get(fk.referenced_table)
    if source is None or target is None:
        return None  # reported as an unplanned table
    pair = (source.kind, target.kind)
    if target.kind == DISTRIBUTED and source.kind != DISTRIBUTED:
        return f"a {source.kind} table cannot reference the distributed table {fk.referenced_table}"
    if pair == (DISTRIBUTED, LOCAL):
        return f"a distributed table cannot reference the local table {fk.referenced_table}"
    if pair == (REFERENCE, LOCAL) and CASCADE in (fk.on_delete, fk.on_update):
        return "a reference table's key to a local table cannot CASCADE"
    if source.kind != DISTRIBUTED:
        return None
    includes = source.column in fk.columns
    if pair == (DISTRIBUTED, DISTRIBUTED):
        pairs = list(zip(fk.columns, fk.referenced_columns, strict=True))
        if (source.column, target.column) not in pairs:
            return (
                f"({', '.join(fk.columns)}) -> {fk.referenced_table} "
                f"({', '.join(fk.referenced_columns)}) does not join distribution column "
                f"{source.column} to {target.column}: the tables are not co-located on it"
            )
    action = _actions_violation(fk) if includes else None
    if action:
        return f"{action} on a key that includes the distribution column {source.column}"
    return None


def _foreign_key_violations(catalog: Catalog, plan: Plan) -> Iterator[Violation]:
    for fk in catalog.foreign_keys:
        problem = _foreign_key_problem(fk, plan)
        if problem:
            yield Violation(fk.table, fk.name, problem)


def violations(catalog: Catalog, plan: Plan) -> list[Violation]:
    """What Citus would refuse of the schema laid out by the plan and is not a listed
    exception, plus every listed exception that no longer matches a refusal (or has no
    reason): the plan must say exactly what stands in the way."""
    found = [
        *_plan_violations(catalog, plan),
        *_key_violations(catalog, plan),
        *_foreign_key_violations(catalog, plan),
    ]
    refused = {(v.table, v.constraint) for v in found if v.constraint}
    unexcused = [v for v in found if (v.table, v.constraint) not in plan.exceptions]
    for (table, constraint), reason in sorted(plan.exceptions.items()):
        if (table, constraint) not in refused:
            unexcused.append(
                Violation(
                    table,
                    constraint,
                    "listed as an exception in docs/SCALING.md, but Citus would accept it "
                    "(or it is gone): remove the row",
                )
            )
        elif not reason.strip():
            unexcused.append(Violation(table, constraint, "an exception needs a reason"))
    return unexcused


def report(found: Iterable[Violation]) -> str:
    return "\n".join(str(v) for v in found)
