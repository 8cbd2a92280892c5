"""The upload page in a real browser: headless Chromium (Debian package) driven by Playwright uploads the bundled
photo to `ecgscreen serve` and finds the report link."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from api_testkit import KEY, PHOTO

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.mark.slow
def test_upload_page_shows_the_report(live_server, tmp_path):
    if not CHROMIUM.exists() and not shutil.which("chromium"):
        pytest.skip("needs Debian's chromium (apt-get install chromium)")
    playwright = pytest.importorskip("playwright.sync_api", reason="needs pip package playwright (no browser "
                                     "download: the system chromium is used)")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=FLAGS)
        try:
            page = browser.new_page(accept_downloads=True)
            page.goto(live_server + "/")
            page.fill("#api-key", KEY)
            page.set_input_files("#file", str(PHOTO))
            page.fill("input[name=patient_name]", "<b>Browser</b> Test")
            page.click("#submit")
            link = page.locator("#pdf-link")
            link.wait_for(state="visible", timeout=60_000)
            assert page.locator("#screening").inner_text().startswith("screening:")
            assert "physician review" in page.locator("#confirmation").inner_text()
            assert page.locator("#measurements tbody tr").count() == 5
            assert page.locator("#overlay").get_attribute("src").startswith("blob:")
            report_id = link.get_attribute("data-report-id")
            with page.expect_download() as download:
                link.click()
            saved = tmp_path / "report.pdf"
            download.value.save_as(saved)
            assert saved.read_bytes().startswith(b"%PDF-") and report_id in download.value.suggested_filename
        finally:
            browser.close()
