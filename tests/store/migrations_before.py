"""A schema of its own migrated only up to a given migration, so that a test can store rows as
they stood before it and then see what the migration does to them."""

from __future__ import annotations

import secrets
import shutil
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from service import db as dbmod
from tests.conftest import DIRECT


@dataclass(frozen=True)
class PartlyMigrated:
    con: dbmod.Connection
    schema: str

    async def migrate_rest(self) -> list[str]:
        """Applies every migration still due; returns their names."""
        return await dbmod.migrate(self.con, self.schema)


@asynccontextmanager
async def schema_before(direct_database_url: str, version: int) -> AsyncIterator[PartlyMigrated]:
    """A fresh schema holding the migrations numbered below `version`, dropped afterwards."""
    schema = f"kpi_migrate_{secrets.token_hex(4)}"
    # A schema of its own: straight to Postgres, also in a run through a pooler.
    con = await dbmod.connect(direct_database_url, schema, settings=DIRECT)
    try:
        with tempfile.TemporaryDirectory() as earlier, pytest.MonkeyPatch.context() as patch:
            for m in (dbmod.SQL_DIR / "migrations").glob("00*.sql"):
                if int(m.name[:4]) < version:
                    shutil.copy(m, Path(earlier) / m.name)
            real_load = dbmod.load_migrations
            patch.setattr(dbmod, "load_migrations", lambda: real_load(Path(earlier)))
            await dbmod.migrate(con, schema)
        yield PartlyMigrated(con, schema)
    finally:
        await con.execute(f'drop schema if exists "{schema}" cascade')
        await con.close()
