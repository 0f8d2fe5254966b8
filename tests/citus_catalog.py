"""Reads a schema's tables, keys and foreign keys out of pg_catalog for tests/citus_plan.py.
A partition is not a table of its own: its parent's constraints and indexes stand for it."""

from __future__ import annotations

from service import db as dbmod
from tests.citus_plan import Catalog, ForeignKey, Key

TABLE_COLUMNS = """
select c.relname as table_name, a.attname as column_name, a.attnotnull as not_null
from pg_class c
join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
where c.relnamespace = $1::regnamespace and c.relkind in ('r', 'p') and not c.relispartition
order by c.relname, a.attnum
"""

#: Unique indexes (primary keys and unique constraints are backed by one) and exclusion
#: constraints; only key columns count (INCLUDE columns do not make a key).
KEYS = """
select c.relname as table_name,
       coalesce(k.conname, i.relname) as name,
       case k.contype when 'p' then 'primary key' when 'u' then 'unique constraint'
                      when 'x' then 'exclusion constraint' else 'unique index' end as kind,
       array(
           select case when x.indkey[n - 1] = 0 then pg_get_indexdef(x.indexrelid, n, true)
                       else (select a.attname from pg_attribute a
                             where a.attrelid = c.oid and a.attnum = x.indkey[n - 1]) end
           from generate_series(1, x.indnkeyatts) as n
           order by n
       )::text[] as columns
from pg_index x
join pg_class i on i.oid = x.indexrelid
join pg_class c on c.oid = x.indrelid
left join pg_constraint k on k.conindid = x.indexrelid and k.conrelid = c.oid
                         and k.contype in ('p', 'u', 'x')
where c.relnamespace = $1::regnamespace and not c.relispartition
  and (x.indisunique or k.contype = 'x')
order by 1, 2
"""

FOREIGN_KEYS = """
select c.relname as table_name, k.conname as name,
       array(select a.attname from unnest(k.conkey) with ordinality as u(attnum, n)
             join pg_attribute a on a.attrelid = k.conrelid and a.attnum = u.attnum
             order by u.n)::text[] as columns,
       r.relname as referenced_table,
       array(select a.attname from unnest(k.confkey) with ordinality as u(attnum, n)
             join pg_attribute a on a.attrelid = k.confrelid and a.attnum = u.attnum
             order by u.n)::text[] as referenced_columns,
       k.confdeltype::text as on_delete, k.confupdtype::text as on_update
from pg_constraint k
join pg_class c on c.oid = k.conrelid
join pg_class r on r.oid = k.confrelid
where k.contype = 'f' and c.relnamespace = $1::regnamespace and not c.relispartition
  and k.conparentid = 0
order by 1, 2
"""


async def read_catalog(con: dbmod.Connection, schema: str) -> Catalog:
    columns: dict[str, dict[str, bool]] = {}
    for row in await con.fetch(TABLE_COLUMNS, schema):
        columns.setdefault(row["table_name"], {})[row["column_name"]] = row["not_null"]
    keys = tuple(
        Key(r["table_name"], r["name"], r["kind"], tuple(r["columns"]))
        for r in await con.fetch(KEYS, schema)
    )
    foreign_keys = tuple(
        ForeignKey(
            r["table_name"],
            r["name"],
            tuple(r["columns"]),
            r["referenced_table"],
            tuple(r["referenced_columns"]),
            r["on_delete"],
            r["on_update"],
        )
        for r in await con.fetch(FOREIGN_KEYS, schema)
    )
    return Catalog(columns, keys, foreign_keys)
