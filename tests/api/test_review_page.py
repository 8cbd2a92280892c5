"""The review page in a real browser (headless Chromium driven by Playwright, like test_page.py): a synthetic print
whose leads I and aVR were deliberately swapped is opened, the reader renames the first panel (the swap follows),
re-runs, and the new version shows the corrected QRS axis."""

from __future__ import annotations

import shutil

import httpx
import pytest
from api_testkit import AUTH, KEY
from corrections_kit import swapped_print
from test_page import CHROMIUM, FLAGS


@pytest.mark.slow
def test_review_page_corrects_two_swapped_leads(live_server):
    if not CHROMIUM.exists() and not shutil.which("chromium"):
        pytest.skip("needs Debian's chromium (apt-get install chromium)")
    playwright = pytest.importorskip("playwright.sync_api", reason="needs pip package playwright (no browser "
                                     "download: the system chromium is used)")
    printed = swapped_print()
    created = httpx.post(f"{live_server}/api/v1/reports?wait=true", headers=AUTH, timeout=120,
                         files={"file": ("swapped.png", printed.png, "image/png")})
    assert created.status_code == 200, created.text
    job = created.json()
    axis_before = job["report"]["measurements"]["qrs_axis_deg"]
    assert abs(axis_before - printed.truth_axis_deg) > 30  # the automatic reading is wrong

    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=FLAGS)
        try:
            page = browser.new_page()
            page.goto(f"{live_server}/review/{job['id']}")
            page.fill("#api-key", KEY)
            page.keyboard.press("Enter")  # keyboard only from here on
            first = page.locator(".panel[data-index='0']")
            first.wait_for(state="visible", timeout=60_000)
            assert first.get_attribute("data-lead") == "I"
            assert page.locator(".panel").count() == 13
            assert abs(float(page.locator("#m-qrs_axis_deg").get_attribute("data-value")) - axis_before) < 0.5
            first.focus()
            page.keyboard.press("Enter")  # select the panel; focus moves to the lead list
            page.select_option("#panel-lead", "aVR")
            page.keyboard.press("Enter")  # rename: aVR exists on panel 2, so the two swap
            assert page.locator("#pending").inner_text() == "I → aVR; aVR → I"
            page.fill("#note", "this printer puts aVR first")
            page.click("#rerun")
            page.wait_for_selector("#review[data-version='2']", timeout=120_000)
            assert page.locator("#version-label").inner_text() == "version 2 of 2"
            assert "I ↔ aVR" in page.locator("#correction").inner_text()
            assert page.locator(".panel[data-index='0']").get_attribute("data-lead") == "aVR"
            axis_after = float(page.locator("#m-qrs_axis_deg").get_attribute("data-value"))
            assert abs(axis_after - printed.truth_axis_deg) < 15, (axis_before, axis_after, printed.truth_axis_deg)
            assert page.locator("#m-heart_rate_bpm").inner_text().endswith("bpm")
            assert page.locator("#version option").count() == 2
        finally:
            browser.close()
    latest = httpx.get(f"{live_server}/api/v1/reports/{job['id']}", headers=AUTH).json()
    assert latest["version"] == 2 and latest["report"]["review"]["corrections"]["note"] == "this printer puts aVR first"
