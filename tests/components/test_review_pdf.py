"""The quarterly review printed to PDF by a real browser: Debian's Chromium, headless, driven
by Playwright (never a browser Playwright downloads), and its text read back with Poppler's
`pdftotext`. The review is of the demo's last closed quarter; the PDF must hold the board
KPIs' values as the API gives them, formatted as the document prints numbers."""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

import pytest
from playwright.async_api import Request, async_playwright

from service import db as dbmod
from service.config import Settings
from service.demo import load_demo
from service.web.review_page import figure
from tests.components.support import program
from tests.conftest import app_client

pytestmark = pytest.mark.components

#: The demo is loaded as of this day; its last closed quarter is 2026-Q3.
TODAY = dt.date(2026, 11, 23)
NOW = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)
QUARTER = "2026-Q3"


async def test_the_review_prints_to_pdf_with_the_board_kpis_of_the_quarter(
    con: dbmod.Connection, settings: Settings, reader: dict[str, str], tmp_path: Path
) -> None:
    chromium = program("chromium", package="chromium")
    pdftotext = program("pdftotext", package="poppler-utils")
    await load_demo(con, today=TODAY)
    async with app_client(con, settings, lambda: NOW) as client:
        html = await client.get(f"/v1/reviews/{QUARTER}", headers={**reader, "Accept": "text/html"})
        assert html.status_code == 200, html.text
        scorecard = await client.get(
            "/v1/scorecard", params={"period": "2026-09-30T23:59:59Z"}, headers=reader
        )
        assert scorecard.status_code == 200, scorecard.text
    items = scorecard.json()["items"]
    values = [item["value"] for item in items]
    assert len(items) >= 5 and all(v is not None for v in values), values
    pdf = tmp_path / "review.pdf"
    asked: list[str] = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium, headless=True)
        try:
            page = await browser.new_page()

            def record(request: Request) -> None:
                asked.append(request.url)

            page.on("request", record)
            await page.set_content(html.text, wait_until="load")
            await page.emulate_media(media="print")
            await page.pdf(path=str(pdf), format="A4", print_background=True,
                           prefer_css_page_size=True)  # fmt: skip
        finally:
            await browser.close()
    # Self-contained: printing it asked nothing of any server.
    assert asked == []
    assert pdf.read_bytes().startswith(b"%PDF-")
    text = subprocess.run([pdftotext, "-layout", str(pdf), "-"], check=True,
                          capture_output=True, text=True).stdout  # fmt: skip
    assert f"Quarterly review {QUARTER}" in text
    for item in items:
        assert item["kpi"] in text, item["kpi"]
        assert figure(item["value"]) in text, (item["kpi"], item["value"])
    # A page per section after the first: the board on page 1, availability by tier next.
    pages = text.split("\f")
    assert "Board KPIs" in pages[0] and "Availability and downtime cost by tier" in pages[1]
