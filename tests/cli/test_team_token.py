"""`kpi token create --team`: a token limited to a team's services, from the command line;
and a source limited to a team in a catalog file."""

from __future__ import annotations

import secrets

from service import db as dbmod
from service.demo import starter_catalog
from service.usecases.catalog_file import CatalogFile, apply_catalog
from tests.usecases.test_catalog_file import _kpi


async def test_token_create_with_a_team_and_its_refusals(database_url: str) -> None:
    schema = f"kpi_cli_{secrets.token_hex(4)}"
    try:
        applied = _kpi(database_url, schema, "apply", "-f", "service/data/starter-catalog.yaml")
        assert applied.returncode == 0, applied.stderr
        made = _kpi(
            database_url, schema, "token", "create", "--name", "payments-ci", "--scope",
            "ingest,read", "--team", "payments", "--read-scope", "team",
        )  # fmt: skip
        assert made.returncode == 0, made.stderr
        assert made.stdout.startswith("kpi_")

        admin = _kpi(database_url, schema, "token", "create", "--name", "x", "--scope", "admin",
                     "--team", "payments")  # fmt: skip
        assert admin.returncode == 1
        assert "team: a token limited to a team cannot have the admin scope" in admin.stderr
        unknown = _kpi(database_url, schema, "token", "create", "--name", "x", "--scope",
                       "ingest", "--team", "nobody")  # fmt: skip
        assert unknown.returncode == 1
        assert "team: unknown team 'nobody'" in unknown.stderr

        con = await dbmod.connect(database_url, schema)
        try:
            rows = await con.fetch(
                "select k.name, k.scopes, t.slug, k.read_scope from api_token k "
                "left join team t on t.id = k.team_id order by k.id"
            )
        finally:
            await con.close()
        assert [tuple(r) for r in rows] == [("payments-ci", ["ingest", "read"], "payments", "team")]
    finally:
        con = await dbmod.connect(database_url)
        await con.execute(f'drop schema if exists "{schema}" cascade')
        await con.close()


async def test_a_catalog_file_limits_a_source_to_a_team(con: dbmod.Connection) -> None:
    await apply_catalog(con, starter_catalog(), dry_run=False)
    source = {
        "name": "payments-alerts", "kind": "alertmanager", "secret": "s3cret",
        "service_rules": [{"match": {"ref": "checkout"}, "service": "checkout"}],
        "team": "payments",
    }  # fmt: skip
    first = await apply_catalog(con, CatalogFile.model_validate({"sources": [source]}),
                                dry_run=False)  # fmt: skip
    assert [(c.action, c.key) for c in first.changes] == [("create", "payments-alerts")]
    again = await apply_catalog(con, CatalogFile.model_validate({"sources": [source]}),
                                dry_run=False)  # fmt: skip
    assert (again.changes, again.unchanged) == ([], 1)
    moved = {**source, "team": "platform"}
    report = await apply_catalog(con, CatalogFile.model_validate({"sources": [moved]}),
                                 dry_run=False)  # fmt: skip
    assert [(c.action, c.fields) for c in report.changes] == [
        ("update", {"team": ("payments", "platform")})
    ]
    limited = await con.fetchval(
        "select t.slug from source s join team t on t.id = s.team_id "
        "where s.name = 'payments-alerts'"
    )
    assert limited == "platform"
