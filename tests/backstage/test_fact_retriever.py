"""The README's Tech Insights fact retriever is the file kept in docs/backstage/; it
type-checks with `tsc --noEmit --strict` against the real Backstage packages it imports
(installed with npm into a cache directory the first time), and, compiled and run by Node
against the service behind a real HTTP server, it returns the facts as Tech Insights stores
them, then nothing while no fact changed (the ETag's 304)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import secrets
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from service import db as dbmod
from service.app import create_app
from service.config import Settings
from service.models.enums import Scope
from service.usecases.tokens import create_token
from tests.components.support import program
from tests.reliability.support import drop_schema, serving

ROOT = Path(__file__).resolve().parents[2]
RETRIEVER = ROOT / "docs" / "backstage" / "kpi-fact-retriever.ts"
README = ROOT / "README.md"

#: What the retriever imports, at the versions it was written against, and the compiler.
PACKAGES = {
    "@backstage-community/plugin-tech-insights-node": "2.9.0",
    "@backstage/catalog-client": "1.16.4",
    "luxon": "3.7.2",
    "@types/luxon": "3.7.6",
    "@types/node": "20.19.43",
    "typescript": "5.9.3",
}


def test_the_readme_shows_the_kept_retriever() -> None:
    blocks = re.findall(r"```ts\n(.*?)```", README.read_text(), flags=re.DOTALL)
    assert RETRIEVER.read_text() in blocks


def cache_directory() -> Path:
    """Where the packages are installed once per set of versions."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    key = hashlib.sha256(json.dumps(PACKAGES, sort_keys=True).encode()).hexdigest()[:12]
    return base / "kpi-service-tests" / f"backstage-ts-{key}"


def installed(npm: str) -> Path:
    directory = cache_directory()
    if (directory / "installed").exists():
        return directory
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    manifest = {"private": True, "dependencies": PACKAGES}
    (directory / "package.json").write_text(json.dumps(manifest, indent=2))
    done = subprocess.run(
        [npm, "install", "--ignore-scripts", "--no-audit", "--no-fund", "--omit=peer"],
        cwd=directory, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    (directory / "installed").touch()
    return directory


def tsc(directory: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The TypeScript compiler run strict in `directory`, for Node's module resolution."""
    compiler = str(directory / "node_modules" / ".bin" / "tsc")
    command = [compiler, "--strict", "--target", "es2022", "--module", "nodenext",
               "--moduleResolution", "nodenext", *args]  # fmt: skip
    return subprocess.run(command, cwd=directory, capture_output=True, text=True, timeout=300,
                          check=False)  # fmt: skip


@pytest.fixture(scope="module")
def node_packages() -> Path:
    """The cache directory with the packages installed and the retriever copied in."""
    directory = installed(program("npm", package="npm"))
    shutil.copyfile(RETRIEVER, directory / RETRIEVER.name)
    return directory


@pytest.mark.components
def test_the_retriever_type_checks_against_tech_insights(node_packages: Path) -> None:
    directory = node_packages
    source = directory / RETRIEVER.name
    checked = tsc(directory, "--noEmit", source.name)
    assert checked.returncode == 0, checked.stdout + checked.stderr

    # The check has teeth: the same file with a fact of a type Tech Insights has not is refused.
    broken = directory / "broken.ts"
    broken.write_text(source.read_text().replace("value: 'float'", "value: 'decimal'"))
    refused = tsc(directory, "--noEmit", broken.name)
    assert refused.returncode != 0
    assert '"decimal"' in refused.stdout


#: Runs the compiled retriever's handler twice with a context whose config holds the URL
#: and token given as arguments; prints both results, a luxon DateTime as "DateTime <ISO>".
RUN = """
const { DateTime } = require('luxon');
const { kpiFactRetriever } = require('./out/kpi-fact-retriever.js');
const [baseUrl, token] = process.argv.slice(2);
const config = { getString: key => ({ 'kpi.baseUrl': baseUrl, 'kpi.token': token })[key] };
const typed = v => (DateTime.isDateTime(v) ? `DateTime ${v.toUTC().toISO()}` : v);
const shown = facts => facts.map(({ entity, facts }) => ({
  entity, facts: Object.fromEntries(Object.entries(facts).map(([k, v]) => [k, typed(v)])) }));
(async () => {
  const first = await kpiFactRetriever.handler({ config });
  const second = await kpiFactRetriever.handler({ config });
  console.log(JSON.stringify({ first: shown(first), second: shown(second),
                               schema: kpiFactRetriever.schema }));
})().catch(error => { console.error(error); process.exit(1); });
"""


@pytest.fixture
async def served(database_url: str) -> AsyncIterator[tuple[str, str]]:
    """The service behind uvicorn on a schema of its own: (its URL, an admin token)."""
    schema = f"kpi_bs_{os.getpid()}_{secrets.token_hex(3)}"
    con = await dbmod.connect(database_url, schema)
    try:
        await dbmod.migrate(con, schema)
        admin = await create_token(con, name="backstage-test", scopes=[Scope.ADMIN])
    finally:
        await con.close()
    settings = Settings(database_url=database_url, db_schema=schema, background=False,
                        rate_limit_per_second=0)  # fmt: skip
    try:
        async with serving(create_app(settings)) as base:
            yield base, admin.token
    finally:
        await drop_schema(database_url, schema)


async def seed(base: str, token: str) -> None:
    """checkout, with `availability` (observed, monthly average, target 99.9): February's
    one point is 99.95, so February is met."""
    headers = {"Authorization": f"Bearer {token}"}
    requests: list[tuple[str, str, Any]] = [
        ("POST", "/v1/services", {"slug": "checkout", "name": "Checkout", "tier": 1}),
        ("POST", "/v1/kpis", {"key": "availability", "name": "Availability", "unit": "percent",
                              "direction": "higher_is_better", "aggregation": "avg",
                              "cadence": "monthly"}),
        ("POST", "/v1/targets", {"kpi": "availability", "value": 99.9,
                                 "effective_from": "2025-01-01"}),
        ("PUT", "/v1/kpis/availability/services/checkout", None),
        ("POST", "/v1/observations", [{"kpi": "availability", "service": "checkout",
                                       "ts": "2026-02-10T00:00:00Z", "value": 99.95}]),
        ("POST", "/v1/evaluate", {"kpi": "availability", "period": "2026-02-15T00:00:00Z"}),
    ]  # fmt: skip
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=10) as client:
        for method, path, body in requests:
            r = await client.request(method, path, json=body)
            assert r.status_code in (200, 201), f"{path}: {r.text}"


@pytest.mark.components
async def test_the_retriever_reads_the_facts_from_the_service(
    node_packages: Path, served: tuple[str, str]
) -> None:
    directory = node_packages
    built = tsc(directory, "--outDir", "out", RETRIEVER.name)
    assert built.returncode == 0, built.stdout + built.stderr
    (directory / "run.cjs").write_text(RUN)
    base, token = served
    await seed(base, token)
    node = await asyncio.create_subprocess_exec(
        program("node", "nodejs", package="npm"), "run.cjs", base, token, cwd=directory,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(node.communicate(), timeout=120)
    assert node.returncode == 0, err.decode()
    ran = json.loads(out)
    # The facts of the KPIs the retriever collects that the service has; the datetimes as
    # luxon DateTimes, as Tech Insights stores a `datetime` fact.
    assert ran["first"] == [{
        "entity": {"kind": "component", "namespace": "default", "name": "checkout"},
        "facts": {
            "availability_status": "met", "availability_value": 99.95,
            "availability_target": 99.9, "availability_unit": "percent",
            "availability_period_start": "DateTime 2026-02-01T00:00:00.000Z",
            "availability_period_end": "DateTime 2026-03-01T00:00:00.000Z",
        },
    }]  # fmt: skip
    # Run again with the ETag of the first answer: 304, so no new facts to store.
    assert ran["second"] == []
    assert ran["schema"]["change_failure_rate_value"] == {
        "type": "float",
        "description": "change_failure_rate_value",
    }
