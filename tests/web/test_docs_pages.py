"""The pages for people: /docs (Swagger UI) and the GraphQL explorer at /graphql (GraphiQL).

Checked without a browser: they load without a token, every asset they reference is served
by the app (large ones gzipped, all with an ETag), nothing points elsewhere (they must work
offline), and they run under their Content-Security-Policy (no inline code). In a real
browser: tests/components/test_docs_pages_browser.py.
"""

from __future__ import annotations

import gzip
import re
import tomllib
from html.parser import HTMLParser
from importlib import resources
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx
import pytest
from graphql import get_introspection_query

from service.cli.common import REPO_ROOT
from service.cli.export import exported_files
from service.web.pages import assets

Headers = dict[str, str]

STATIC = resources.files("service.web") / "static"
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
BASE = "http://kpi.test"

#: Any absolute or protocol-relative URL: none may appear in the pages at all.
ANY_URL = re.compile(r"(?i)[a-z][a-z0-9+.-]*://|//")
#: In our JS and CSS (where // also starts a comment): a scheme, or a string or url() that
#: starts with //.
URL_IN_CODE = re.compile(r"(?i)\b(?:https?|wss?|ftp):|[\"'(`]\s*//|@import")

PAGES = {"/docs": {}, "/graphql": {"Accept": BROWSER_ACCEPT}}

CONTENT_TYPES = {
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
}


class Tags(HTMLParser):
    """Every start tag with its attributes, and the text inside each <script>."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.script_text: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.script_text.append(data)


def parse(page: str) -> Tags:
    tags = Tags()
    tags.feed(page)
    tags.close()
    return tags


def references(page: str) -> list[str]:
    """The src and href of every element, in page order."""
    return [
        value
        for _, attrs in parse(page).tags
        for name, value in attrs.items()
        if name in ("src", "href", "action", "poster", "srcset") and value is not None
    ]


async def load(client: httpx.AsyncClient, path: str) -> httpx.Response:
    r = await client.get(path, headers=PAGES[path])
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    return r


def static_text(name: str) -> str:
    return (STATIC / name).read_text(encoding="utf-8")


# Loading ----------


@pytest.mark.parametrize("path", PAGES)
async def test_page_loads_without_a_token(client: httpx.AsyncClient, path: str) -> None:
    r = await load(client, path)
    assert r.text.startswith("<!DOCTYPE html>")
    csp = r.headers["content-security-policy"]
    assert "default-src 'self'" in csp
    assert "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "no-referrer"
    assert r.headers["x-frame-options"] == "DENY"


async def test_docs_is_swagger_ui_over_the_spec(client: httpx.AsyncClient) -> None:
    refs = references((await load(client, "/docs")).text)
    assert "docs/assets/vendor/swagger-ui/swagger-ui-bundle.js" in refs
    assert "docs/assets/vendor/swagger-ui/swagger-ui.css" in refs
    script = static_text("reference.js")
    # relative to the page at /docs: the spec this service serves
    assert 'url: "openapi.json",' in script
    assert urljoin(BASE + "/docs", "openapi.json") == BASE + "/openapi.json"
    # the document is never sent to a validator elsewhere
    assert "validatorUrl: null," in script


async def test_openapi_json_is_the_exported_spec(client: httpx.AsyncClient) -> None:
    """The same text `kpi export` checks in (test_exported_files_are_up_to_date)."""
    r = await client.get("/openapi.json")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/json"
    assert r.text == exported_files()[REPO_ROOT / "openapi" / "openapi.json"]


async def test_head_and_other_methods(client: httpx.AsyncClient) -> None:
    assert (await client.head("/docs")).status_code == 200
    r = await client.post("/docs")
    assert r.status_code == 405
    assert r.headers["allow"] == "GET, HEAD"
    assert r.headers["content-type"] == "application/problem+json"
    r = await client.get("/docs/assets/missing.js")
    assert r.status_code == 404
    r = await client.get("/docs/assets/../app.py")
    assert r.status_code == 404


async def test_unchanged_asset_is_not_sent_again(client: httpx.AsyncClient) -> None:
    first = await client.get("/docs/assets/explorer.js")
    assert first.status_code == 200
    again = await client.get(
        "/docs/assets/explorer.js", headers={"If-None-Match": first.headers["etag"]}
    )
    assert again.status_code == 304
    assert again.content == b""


BUNDLE = "/docs/assets/vendor/swagger-ui/swagger-ui-bundle.js"


async def test_large_assets_are_sent_gzipped(client: httpx.AsyncClient) -> None:
    """The vendored tools are megabytes: gzipped once, each encoding with its own ETag."""
    plain = (STATIC / "vendor" / "swagger-ui" / "swagger-ui-bundle.js").read_bytes()
    r = await client.get(BUNDLE, headers={"Accept-Encoding": "identity"})
    assert r.content == plain
    assert "content-encoding" not in r.headers
    assert r.headers["vary"] == "Accept-Encoding"
    assert r.headers["cache-control"] == "no-cache"
    # httpx decodes what it receives: the raw stream shows what was sent
    async with client.stream("GET", BUNDLE, headers={"Accept-Encoding": "gzip"}) as zipped:
        sent = b"".join([chunk async for chunk in zipped.aiter_raw()])
    assert zipped.headers["content-encoding"] == "gzip"
    assert gzip.decompress(sent) == plain
    assert len(sent) < len(plain) / 3  # minified JavaScript shrinks to about a quarter
    assert zipped.headers["etag"] != r.headers["etag"]
    again = await client.get(
        BUNDLE, headers={"Accept-Encoding": "gzip", "If-None-Match": zipped.headers["etag"]}
    )
    assert again.status_code == 304
    assert "content-encoding" not in again.headers
    # a small file is sent as it is
    small = await client.get("/docs/assets/pages.css", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in small.headers
    assert "vary" not in small.headers


# Assets: all served here, nothing from elsewhere ----------


@pytest.mark.parametrize("path", PAGES)
async def test_every_reference_is_served_by_the_app(client: httpx.AsyncClient, path: str) -> None:
    page = (await load(client, path)).text
    refs = references(page)
    assert refs
    page_url = BASE + path
    for ref in refs:
        if ref.startswith("#"):
            continue
        if ref.startswith("data:"):
            assert ref == "data:,", ref  # the empty favicon, which spares a request
            continue
        url = urljoin(page_url, ref)
        assert urlsplit(url).netloc == "kpi.test", ref
        target = urlsplit(url).path
        if target in PAGES:
            await load(client, target)
            continue
        r = await client.get(target)
        assert r.status_code == 200, (ref, r.text)
        suffix = Path(target).suffix
        expected = CONTENT_TYPES.get(suffix, "application/json")
        assert r.headers["content-type"] == expected, ref
        assert r.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("path", PAGES)
async def test_page_has_no_external_url(client: httpx.AsyncClient, path: str) -> None:
    page = (await load(client, path)).text
    assert ANY_URL.findall(page) == []
    for ref in references(page):
        assert not urlsplit(ref).scheme or ref == "data:,", ref
        assert not ref.startswith(("/", "\\")), ref  # relative: works behind a path prefix


OUR_ASSETS = sorted(name for name in assets() if not name.startswith("vendor/"))
VENDORED_CSS = sorted(name for name in assets() if name.startswith("vendor/") and
                      name.endswith(".css"))  # fmt: skip


@pytest.mark.parametrize("name", OUR_ASSETS)
def test_our_assets_have_no_external_url(name: str) -> None:
    assert URL_IN_CODE.findall(static_text(name)) == []


@pytest.mark.parametrize("name", VENDORED_CSS)
def test_vendored_stylesheets_load_nothing_from_elsewhere(name: str) -> None:
    """Their fonts and icons are data: URIs. (The vendored scripts hold URLs in strings they
    never load; the browser test watches every request they make.)"""
    css = static_text(name)
    assert "@import" not in css
    targets = re.findall(r"url\(\s*[\"']?([^\"')]*)", css)
    assert targets
    assert [t for t in targets if not t.startswith("data:")] == []


@pytest.mark.parametrize("path", PAGES)
async def test_page_runs_under_its_csp(client: httpx.AsyncClient, path: str) -> None:
    """No inline script, style or event handler: default-src 'self' allows none of them."""
    tags = parse((await load(client, path)).text)
    assert "".join(tags.script_text).strip() == ""
    for tag, attrs in tags.tags:
        assert tag != "style"
        if tag == "script":
            assert attrs.get("src"), attrs
        assert "style" not in attrs, (tag, attrs)
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)


def test_static_files_are_package_data() -> None:
    """Every file of service/web/static ships in the wheel (a non-editable install)."""
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    globs = pyproject["tool"]["setuptools"]["package-data"]["service"]
    folder = REPO_ROOT / "service" / "web" / "static"
    for file in folder.rglob("*"):
        relative = file.relative_to(REPO_ROOT / "service")
        assert any(relative.match(glob) for glob in globs), relative
    pages = {"explorer.html", "reference.html"}
    expected = {name.split("/")[0] for name in assets()} | pages
    assert {f.name for f in folder.iterdir()} == expected


# The explorer talks to /graphql ----------


def test_explorer_posts_to_graphql() -> None:
    script = static_text("explorer.js")
    endpoint = re.search(r'const ENDPOINT = "([^"]+)";', script)
    assert endpoint is not None
    # relative to the page, which is served at /graphql
    assert urljoin(BASE + "/graphql", endpoint.group(1)) == BASE + "/graphql"
    assert "fetch(ENDPOINT, {" in script
    assert 'method: "POST"' in script
    assert 'const ACCEPT = "application/graphql-response+json' in script
    # the Headers tab (where the token goes) reaches every request, and is not kept
    assert "...((options && options.headers) || {})" in script
    assert "shouldPersistHeaders: false" in script
    assert "setItem: (key, value) => localStorage.setItem(key, withoutHeaders(value))" in script


def explorer_introspection() -> str:
    """The introspection GraphiQL sends (graphql-js's, with deprecated input values)."""
    return get_introspection_query(input_value_deprecation=True)


async def test_explorer_introspection_works_with_a_read_token(
    client: httpx.AsyncClient, reader: Headers
) -> None:
    r = await client.post("/graphql", json={"query": explorer_introspection()}, headers=reader)
    assert r.status_code == 200, r.text
    body = r.json()
    assert "errors" not in body, body["errors"]
    schema = body["data"]["__schema"]
    assert schema["queryType"]["name"] == "Query"
    types = {t["name"]: t for t in schema["types"]}
    query = {f["name"]: f for f in types["Query"]["fields"]}
    assert query["kpis"]["description"] == "KPI definitions, ordered by creation; cursor-paginated."
    assert {a["name"] for a in query["kpis"]["args"]} >= {"first", "after"}
    assert types["Team"]["kind"] == "OBJECT"


async def test_explorer_queries_need_a_token(client: httpx.AsyncClient) -> None:
    r = await client.post("/graphql", json={"query": explorer_introspection()})
    assert r.status_code == 401
    assert r.headers["content-type"] == "application/problem+json"


# /graphql for everything but a browser is unchanged ----------


async def test_get_queries_still_work(client: httpx.AsyncClient, reader: Headers) -> None:
    for accept in ("application/json", "*/*", BROWSER_ACCEPT):
        r = await client.get(
            "/graphql", params={"query": "{ __typename }"}, headers={**reader, "Accept": accept}
        )
        assert r.status_code == 200, (accept, r.text)
        assert r.json()["data"] == {"__typename": "Query"}
    r = await client.get("/graphql", params={"query": "{ __typename }"})
    assert r.status_code == 401


@pytest.mark.parametrize("accept", ["application/json", "*/*", ""])
async def test_get_without_query_or_html_is_400(
    client: httpx.AsyncClient, reader: Headers, accept: str
) -> None:
    r = await client.get("/graphql", headers={**reader, "Accept": accept})
    assert r.status_code == 400, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["instance"] == "/graphql"
