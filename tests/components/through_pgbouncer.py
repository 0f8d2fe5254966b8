"""Run test directories once through PgBouncer in transaction mode (.ci/run does, for
tests/store, tests/ingest and tests/graphql):

    KPI_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test \\
        python -m tests.components.through_pgbouncer tests/store tests/ingest tests/graphql

It starts PgBouncer on a free port in front of KPI_DATABASE_URL's server, makes a throwaway
role whose settings carry the test schema and the service's session settings (PgBouncer
refuses them at connect), and runs pytest with KPI_DATABASE_URL pointing through PgBouncer as
that role, KPI_DB_TRANSACTION_POOLING=true (no prepared statements, nothing sent at connect)
and KPI_TEST_DB_SCHEMA naming the schema; tests that make schemas of their own connect
straight to Postgres (KPI_TEST_DIRECT_DATABASE_URL, see tests/conftest.py). Tests that touch no
PostgreSQL are deselected (KPI_TEST_DATABASE_ONLY=1): they would run as they do without
PgBouncer. Its exit status is pytest's.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys

from tests.components.pgbouncer import create_pooled_role, drop_pooled_role, names, pgbouncer


def main(args: list[str]) -> int:
    direct = os.environ.get("KPI_DATABASE_URL")
    program = shutil.which("pgbouncer")
    if not direct or program is None:
        print("needs KPI_DATABASE_URL and the pgbouncer program (Debian package pgbouncer)")
        return 2
    role, schema = names("kpi_bouncer")
    asyncio.run(create_pooled_role(direct, role, schema))
    try:
        with pgbouncer(program, direct, [role]) as bouncer:
            env = {
                **os.environ,
                "KPI_DATABASE_URL": bouncer.url(role),
                "KPI_DB_TRANSACTION_POOLING": "true",
                "KPI_TEST_DB_SCHEMA": schema,
                "KPI_TEST_DIRECT_DATABASE_URL": direct,
                "KPI_TEST_COMPONENTS": "0",
                "KPI_TEST_DATABASE_ONLY": "1",
            }
            return subprocess.run([sys.executable, "-m", "pytest", *args], env=env).returncode
    finally:
        asyncio.run(drop_pooled_role(direct, role, schema))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
