"""The documentation pages in a real browser: Debian's Chromium, headless, driven by Playwright
(never a browser Playwright downloads), against the service running as a real HTTP server.

In GraphiQL at /graphql the test puts a token in the Headers tab, types a query, runs it and
reads the result pane; in Swagger UI at /docs it authorizes with the token, opens an
operation, tries it out and reads the response shown. Neither page may ask any other host for
anything, nor break its Content-Security-Policy. Screenshots go to the test's temporary folder,
and are copied to KPI_TEST_SCREENSHOTS when that names a folder.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.async_api import Browser, ConsoleMessage, Page, Request, async_playwright

from service import db as dbmod
from service.app import create_app
from service.config import Settings
from service.models.enums import Scope
from service.usecases.tokens import create_token
from tests.components.support import program
from tests.reliability.support import drop_schema, serving

pytestmark = pytest.mark.components

#: Longest wait for anything on a page (the tools are large scripts; this machine is small).
WAIT_MS = 20_000

SERVICES = [
    {"slug": "checkout", "name": "Checkout", "tier": 1},
    {"slug": "payroll", "name": "Payroll", "tier": 3},
]

QUERY = "{ services(first: 10) { edges { node { slug name tier } } } }"


@dataclass
class Kpi:
    base: str
    token: str


@pytest.fixture
async def kpi(database_url: str) -> AsyncIterator[Kpi]:
    """The service behind uvicorn on a schema of its own, with two services and a read token."""
    schema = f"kpi_pages_{os.getpid()}_{secrets.token_hex(3)}"
    con = await dbmod.connect(database_url, schema)
    try:
        await dbmod.migrate(con, schema)
        admin = await create_token(con, name="pages-admin", scopes=[Scope.ADMIN])
        reader = await create_token(con, name="pages-reader", scopes=[Scope.READ])
    finally:
        await con.close()
    settings = Settings(database_url=database_url, db_schema=schema, background=False,
                        rate_limit_per_second=0)  # fmt: skip
    try:
        async with serving(create_app(settings)) as base:
            async with httpx.AsyncClient(
                base_url=base, headers={"Authorization": f"Bearer {admin.token}"}
            ) as client:
                for service in SERVICES:
                    resp = await client.post("/v1/services", json=service)
                    assert resp.status_code == 201, resp.text
            yield Kpi(base, reader.token)
    finally:
        await drop_schema(database_url, schema)


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    chromium = program("chromium", package="chromium")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=chromium, headless=True)
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
def screenshots(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "screens"
    folder.mkdir()
    yield folder
    wanted = os.environ.get("KPI_TEST_SCREENSHOTS")
    if wanted:
        shutil.copytree(folder, wanted, dirs_exist_ok=True)


@dataclass
class Watched:
    """What a page asked for and complained about."""

    requests: list[Request] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def watch(self, page: Page) -> None:
        page.on("request", lambda request: self.requests.append(request))
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        page.on("console", self._console)

    def _console(self, message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or "Refused to" in message.text:
            self.problems.append(f"console: {message.text}")

    def hosts(self) -> set[str]:
        return {urlsplit(r.url).netloc for r in self.requests}


async def new_page(browser: Browser) -> tuple[Page, Watched]:
    page = await browser.new_page(viewport={"width": 1400, "height": 900})
    page.set_default_timeout(WAIT_MS)
    watched = Watched()
    watched.watch(page)
    return page, watched


async def replace_text(page: Page, editor: str, text: str) -> None:
    """Select everything in a CodeMirror editor and type `text` over it (inserted as typed
    text, so the editor's bracket auto-closing does not add a second brace)."""
    await page.locator(f"{editor} .CodeMirror").click()
    await page.keyboard.press("Control+A")
    await page.keyboard.insert_text(text)


async def test_graphiql_runs_a_query_with_the_token(
    kpi: Kpi, browser: Browser, screenshots: Path
) -> None:
    page, watched = await new_page(browser)
    await page.goto(kpi.base + "/graphql")
    await page.locator(".graphiql-query-editor .CodeMirror").wait_for()

    await page.get_by_role("button", name="Headers", exact=True).click()
    headers = json.dumps({"Authorization": f"Bearer {kpi.token}"})
    await replace_text(page, ".graphiql-editor-tool .graphiql-editor:not(.hidden)", headers)

    # With the token in, the schema loads: the docs pane and completion work from it.
    async with page.expect_response(
        lambda r: r.request.method == "POST" and "IntrospectionQuery" in (r.request.post_data or "")
    ) as introspected:  # fmt: skip
        await page.get_by_role("button", name="Re-fetch GraphQL schema").click()
    assert (await introspected.value).status == 200
    await page.get_by_role("button", name="Show Documentation Explorer").click()
    docs = page.locator(".graphiql-doc-explorer")
    await docs.get_by_text("Query", exact=True).click()
    await docs.get_by_text("Business services, ordered by creation; cursor-paginated.").wait_for()
    await replace_text(page, ".graphiql-query-editor", "")
    await page.keyboard.type("{ serv")
    hints = page.locator(".CodeMirror-hints")
    await hints.get_by_text("services", exact=True).wait_for()
    await page.screenshot(path=screenshots / "graphiql-completion.png")
    await page.keyboard.press("Escape")

    await replace_text(page, ".graphiql-query-editor", QUERY)
    async with page.expect_response(
        lambda r: r.url == kpi.base + "/graphql" and r.request.method == "POST"
        and QUERY in (r.request.post_data or "")
    ) as answered:  # fmt: skip
        await page.locator(".graphiql-execute-button").click()
    response = await answered.value
    assert response.status == 200
    sent = response.request.headers
    assert sent["authorization"] == f"Bearer {kpi.token}"
    assert sent["accept"].startswith("application/graphql-response+json")

    result = page.locator(".result-window")
    await result.get_by_text('"payroll"', exact=True).wait_for()
    shown = await page.evaluate(
        "document.querySelector('.result-window .CodeMirror').CodeMirror.getValue()"
    )
    # Both services, in the order they were created, exactly as the API stores them (the
    # cost the service reports beside them is another test's business).
    assert json.loads(shown)["data"] == {"services": {"edges": [
        {"node": {"slug": "checkout", "name": "Checkout", "tier": 1}},
        {"node": {"slug": "payroll", "name": "Payroll", "tier": 3}},
    ]}}  # fmt: skip
    await page.screenshot(path=screenshots / "graphiql-query-result.png")
    # The token stays in the Headers tab: GraphiQL keeps queries and tabs, never headers.
    stored = await page.evaluate("JSON.stringify([{...localStorage}, {...sessionStorage}])")
    assert "services(first: 10)" in stored
    assert kpi.token not in stored

    assert watched.hosts() == {urlsplit(kpi.base).netloc}
    assert watched.problems == []


async def test_swagger_ui_tries_an_operation_with_the_token(
    kpi: Kpi, browser: Browser, screenshots: Path
) -> None:
    page, watched = await new_page(browser)
    await page.goto(kpi.base + "/docs")
    await page.locator(".swagger-ui .info .title").wait_for()
    assert "KPI service" in await page.locator(".swagger-ui .info .title").inner_text()

    await page.locator(".swagger-ui .btn.authorize").first.click()
    scheme = page.locator(".auth-container").filter(has_text="bearerAuth")
    await scheme.locator("input").fill(kpi.token)
    await scheme.get_by_role("button", name="Apply credentials").click()
    await scheme.get_by_role("heading", name="Authorized").wait_for()
    await scheme.get_by_role("button", name="Close").click()

    operation = page.locator("#operations-services-list_services")
    await operation.locator(".opblock-summary").click()
    await operation.get_by_role("button", name="Try it out").click()
    async with page.expect_response(kpi.base + "/v1/services") as answered:
        await operation.get_by_role("button", name="Execute").click()
    response = await answered.value
    assert response.status == 200
    assert response.request.headers["authorization"] == f"Bearer {kpi.token}"

    live = operation.locator(".live-responses-table tr.response")
    await live.wait_for()
    assert (await live.locator(".response-col_status").inner_text()).strip() == "200"
    shown = json.loads(await live.locator(".response-col_description pre").first.inner_text())
    assert [(s["slug"], s["name"], s["tier"]) for s in shown] == [
        ("checkout", "Checkout", 1),
        ("payroll", "Payroll", 3),
    ]
    # The request example (curl) carries the token too.
    snippet = await operation.locator(".curl-command").inner_text()
    assert f"Authorization: Bearer {kpi.token}" in snippet
    await live.scroll_into_view_if_needed()
    await page.screenshot(path=screenshots / "swagger-ui-try-it.png")
    await operation.screenshot(path=screenshots / "swagger-ui-operation.png")
    # Authorized in the page's memory only (persistAuthorization is off).
    stored = await page.evaluate("JSON.stringify([{...localStorage}, {...sessionStorage}])")
    assert kpi.token not in stored

    assert watched.hosts() == {urlsplit(kpi.base).netloc}
    assert watched.problems == []
