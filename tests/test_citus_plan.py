"""The Citus plan in docs/SCALING.md fits the migrated schema: every table is planned, and every
key Citus would refuse is a listed exception with its reason. The rules are tested on hand-built
catalogs and on real tables a migration could add, so a violating key fails the check."""

from __future__ import annotations

import secrets

import pytest

from service import db as dbmod
from tests.citus_catalog import read_catalog
from tests.citus_plan import (
    DISTRIBUTED,
    LOCAL,
    REFERENCE,
    Catalog,
    ForeignKey,
    Key,
    Placement,
    Plan,
    Violation,
    load_plan,
    parse_plan,
    report,
    violations,
)

# -- the real schema and the plan of docs/SCALING.md ---------------------------------------------


async def test_every_table_is_planned_and_every_refused_key_is_a_listed_exception(
    con: dbmod.Connection, db_schema: str
) -> None:
    catalog = await read_catalog(con, db_schema)
    plan = load_plan()
    found = violations(catalog, plan)
    assert not found, "docs/SCALING.md's Citus plan does not fit the schema:\n" + report(found)
    # The check saw the schema: the observation family is distributed on kpi_id and its one key
    # names it; the catalog lists no partition of observation as a table.
    assert plan.placements["observation"] == Placement("observation", DISTRIBUTED, "kpi_id")
    assert [k.columns for k in catalog.keys if k.table == "observation"] == [
        ("kpi_id", "service_id", "ts", "dimensions")
    ]
    assert not [t for t in catalog.columns if t.startswith("observation_y")]
    assert "observation_default" not in catalog.columns


async def test_a_migration_adding_a_refused_key_or_an_unplanned_table_fails_the_check(
    con: dbmod.Connection, db_schema: str
) -> None:
    # Inside the test's transaction (rolled back): what a careless migration could add.
    await con.execute(f"""
        set local search_path = "{db_schema}";
        alter table observation
            add constraint observation_probe_uq unique (service_id, ts, dimensions);
        create unique index kpi_status_probe_idx on kpi_status (service_id, period_start);
        alter table kpi_outcome add column probe_kpi bigint, add column probe_day date;
        alter table kpi_outcome add constraint kpi_outcome_probe_fkey
            foreign key (probe_kpi, probe_day) references observation_day (kpi_id, day);
        create table probe_rollup (kpi_id bigint not null, at date not null);
    """)
    found = violations(await read_catalog(con, db_schema), load_plan())
    assert [(v.table, v.constraint) for v in found] == [
        ("probe_rollup", ""),
        ("kpi_status", "kpi_status_probe_idx"),
        ("observation", "observation_probe_uq"),
        ("kpi_outcome", "kpi_outcome_probe_fkey"),
    ]
    message = report(found)
    assert "table probe_rollup: not in the plan: add the row `| probe_rollup |" in message
    assert (
        "table observation, constraint observation_probe_uq: unique constraint "
        "(service_id, ts, dimensions) lacks the distribution column kpi_id" in message
    )
    assert "table kpi_status, constraint kpi_status_probe_idx: unique index" in message
    assert (
        "table kpi_outcome, constraint kpi_outcome_probe_fkey: a reference table cannot "
        "reference the distributed table observation_day" in message
    )


async def test_the_catalog_reader_folds_partitions_and_reads_expressions(
    con: dbmod.Connection, database_url: str
) -> None:
    # A scratch schema of its own (dropped with the rolled-back transaction), built as a
    # migration would build one: a partitioned table, an expression index, a composite key.
    schema = f"citus_probe_{secrets.token_hex(3)}"
    await con.execute(f"""
        create schema "{schema}";
        create table "{schema}".tenant (id bigint primary key);
        create table "{schema}".reading (
            tenant_id bigint not null references "{schema}".tenant (id) on delete cascade,
            id bigint not null, at timestamptz not null, label text,
            primary key (tenant_id, id, at)
        ) partition by range (at);
        create table "{schema}".reading_2026 partition of "{schema}".reading
            for values from ('2026-01-01') to ('2027-01-01');
        create unique index reading_label_uq on "{schema}".reading (lower(label), at);
        create table "{schema}".note (
            tenant_id bigint not null, reading_id bigint not null, at timestamptz not null,
            foreign key (tenant_id, reading_id, at)
                references "{schema}".reading (tenant_id, id, at) on delete set null
        );
        create table "{schema}".booking (
            tenant_id bigint not null, during tstzrange not null,
            constraint booking_no_overlap exclude using gist (during with &&)
        );
    """)
    catalog = await read_catalog(con, schema)
    assert set(catalog.columns) == {"tenant", "reading", "note", "booking"}
    assert catalog.columns["reading"] == {"tenant_id": True, "id": True, "at": True, "label": False}
    assert sorted(catalog.keys, key=lambda k: k.name) == [
        Key("booking", "booking_no_overlap", "exclusion constraint", ("during",)),
        Key("reading", "reading_label_uq", "unique index", ("lower(label)", "at")),
        Key("reading", "reading_pkey", "primary key", ("tenant_id", "id", "at")),
        Key("tenant", "tenant_pkey", "primary key", ("id",)),
    ]
    plan = Plan(
        {
            "tenant": Placement("tenant", REFERENCE, None),
            "reading": Placement("reading", DISTRIBUTED, "tenant_id"),
            "note": Placement("note", DISTRIBUTED, "tenant_id"),
            "booking": Placement("booking", DISTRIBUTED, "tenant_id"),
        }
    )
    # The exclusion constraint and the expression index lack tenant_id; the note's key joins
    # tenant_id to tenant_id but sets it NULL on delete, which Citus refuses; the reading's
    # key to tenant is fine.
    assert [(v.table, v.constraint) for v in violations(catalog, plan)] == [
        ("booking", "booking_no_overlap"),
        ("reading", "reading_label_uq"),
        ("note", "note_tenant_id_reading_id_at_fkey"),
    ]


# -- the rules, on hand-built catalogs -----------------------------------------------------------

TEAM = Placement("team", REFERENCE, None)
POINT = Placement("point", DISTRIBUTED, "kpi_id")
DAY = Placement("day", DISTRIBUTED, "kpi_id")
LEASE = Placement("lease", LOCAL, None)
COLUMNS = {
    "team": {"id": True},
    "point": {"kpi_id": True, "id": True, "team_id": False, "day_id": True},
    "day": {"kpi_id": True, "id": True},
    "lease": {"name": True, "point_id": True},
}


def _plan(*placements: Placement, exceptions: dict[tuple[str, str], str] | None = None) -> Plan:
    return Plan({p.table: p for p in placements}, exceptions or {})


def _check(*keys: Key | ForeignKey, plan: Plan | None = None) -> list[tuple[str, str, str]]:
    catalog = Catalog(
        COLUMNS,
        tuple(k for k in keys if isinstance(k, Key)),
        tuple(k for k in keys if isinstance(k, ForeignKey)),
    )
    found = violations(catalog, plan or _plan(TEAM, POINT, DAY, LEASE))
    return [(v.table, v.constraint, v.problem) for v in found]


def test_a_key_of_a_distributed_table_must_include_its_distribution_column() -> None:
    assert _check(Key("point", "point_pkey", "primary key", ("kpi_id", "id"))) == []
    assert _check(Key("point", "point_pkey", "primary key", ("id",))) == [
        (
            "point",
            "point_pkey",
            "primary key (id) lacks the distribution column kpi_id: Citus enforces it only "
            "within one shard",
        )
    ]
    # An expression over the column is not the column: the hash cannot route on it.
    assert len(_check(Key("point", "p_uq", "unique index", ("coalesce(kpi_id, 0)", "id")))) == 1
    # Reference and local tables keep any key.
    assert _check(Key("team", "team_pkey", "primary key", ("id",))) == []
    assert _check(Key("lease", "lease_pkey", "primary key", ("name",))) == []


def test_distributed_tables_reference_each_other_on_their_distribution_columns() -> None:
    same = ForeignKey("point", "p_day", ("kpi_id", "day_id"), "day", ("kpi_id", "id"), "c")
    assert _check(same) == []
    swapped = ForeignKey("point", "p_day", ("day_id", "kpi_id"), "day", ("kpi_id", "id"))
    assert _check(swapped) == [
        (
            "point",
            "p_day",
            "(day_id, kpi_id) -> day (kpi_id, id) does not join distribution column kpi_id to "
            "kpi_id: the tables are not co-located on it",
        )
    ]
    assert len(_check(ForeignKey("point", "p_day", ("day_id",), "day", ("id",)))) == 1


def test_only_a_distributed_table_may_reference_a_distributed_table() -> None:
    from_local = ForeignKey("lease", "l_point", ("point_id",), "point", ("id",))
    assert _check(from_local) == [
        ("lease", "l_point", "a local table cannot reference the distributed table point")
    ]
    to_local = ForeignKey("point", "p_lease", ("team_id",), "lease", ("name",))
    assert _check(to_local) == [
        ("point", "p_lease", "a distributed table cannot reference the local table lease")
    ]
    # A distributed table referencing a reference table on any column is fine, SET NULL too
    # when the key leaves out the distribution column.
    assert _check(ForeignKey("point", "p_team", ("team_id",), "team", ("id",), "n")) == []


def test_set_null_is_refused_on_a_key_holding_the_distribution_column() -> None:
    set_null = ForeignKey("point", "p_day", ("kpi_id", "day_id"), "day", ("kpi_id", "id"), "n")
    assert _check(set_null) == [
        (
            "point",
            "p_day",
            "ON DELETE SET NULL on a key that includes the distribution column kpi_id",
        )
    ]
    update_cascade = ForeignKey(
        "point", "p_day", ("kpi_id", "day_id"), "day", ("kpi_id", "id"), "a", "c"
    )
    assert _check(update_cascade)[0][2].startswith("ON UPDATE CASCADE")


def test_a_reference_table_may_not_cascade_from_a_local_table() -> None:
    columns = dict(COLUMNS, team={"id": True, "lease": False})
    catalog = Catalog(
        columns, (), (ForeignKey("team", "t_lease", ("lease",), "lease", ("name",), "c"),)
    )
    assert [v.problem for v in violations(catalog, _plan(TEAM, POINT, DAY, LEASE))] == [
        "a reference table's key to a local table cannot CASCADE"
    ]


def test_an_unplanned_table_a_stale_row_and_a_nullable_distribution_column_are_reported() -> None:
    plan = _plan(
        TEAM,
        Placement("point", DISTRIBUTED, "team_id"),
        Placement("gone", LOCAL, None),
        Placement("day", DISTRIBUTED, "missing"),
    )
    assert [str(v) for v in violations(Catalog(COLUMNS), plan)] == [
        "table lease: not in the plan: add the row `| lease | distributed, reference or local "
        "| distribution column or - |` to the plan table of docs/SCALING.md",
        "table gone: planned in docs/SCALING.md but not in the schema: remove its row",
        "table point, its distribution column: distribution column team_id may be NULL: "
        "Citus refuses a row without a distribution value",
        "table day, its distribution column: distribution column missing is not a column of "
        "the table",
    ]
    # Until a migration adds the column, an exception row names it.
    plan = _plan(
        TEAM,
        POINT,
        LEASE,
        Placement("day", DISTRIBUTED, "source_id"),
        exceptions={("day", "(distribution column)"): "source_id is added by a later migration"},
    )
    assert violations(Catalog(COLUMNS), plan) == []


def test_an_exception_excuses_its_refusal_and_a_stale_exception_is_reported() -> None:
    pkey = Key("point", "point_pkey", "primary key", ("id",))
    excused = _plan(TEAM, POINT, DAY, LEASE, exceptions={("point", "point_pkey"): "why"})
    assert _check(pkey, plan=excused) == []
    # Once the key includes kpi_id, the exception is stale and must go.
    fixed = Key("point", "point_pkey", "primary key", ("kpi_id", "id"))
    assert _check(fixed, plan=excused) == [
        (
            "point",
            "point_pkey",
            "listed as an exception in docs/SCALING.md, but Citus would accept it (or it is "
            "gone): remove the row",
        )
    ]
    no_reason = _plan(TEAM, POINT, DAY, LEASE, exceptions={("point", "point_pkey"): " "})
    assert [p for _, _, p in _check(pkey, plan=no_reason)] == ["an exception needs a reason"]


def test_the_plan_is_read_from_its_two_markdown_tables() -> None:
    text = """
Some prose | with a pipe.

| table | kind | distribution column |
|---|---|---|
| `point` | distributed | `kpi_id` |
| team | reference | - |

| table | constraint | reason |
|:--|:--|:--|
| point | point_pkey | the id alone is unique: add kpi_id |
"""
    assert parse_plan(text) == Plan(
        {"point": POINT, "team": TEAM},
        {("point", "point_pkey"): "the id alone is unique: add kpi_id"},
    )
    with pytest.raises(ValueError, match="kind 'sharded'"):
        parse_plan(text.replace("| distributed |", "| sharded |"))
    with pytest.raises(ValueError, match="found 1 and 0"):
        parse_plan(text.replace("| reason |", "| why |"))
    with pytest.raises(ValueError, match="point point_pkey is listed twice"):
        parse_plan(text + "| point | point_pkey | again |\n")


def test_a_violation_names_the_table_and_constraint() -> None:
    assert (
        str(Violation("incident", "incident_pkey", "x"))
        == "table incident, constraint incident_pkey: x"
    )
    assert str(Violation("probe", "", "x")) == "table probe: x"
