"""Analyst journeys in real headless Chromium."""

import csv
import io
from pathlib import Path

import pytest

from policies.tests.page_data import build_world
from tests.factories import FacilityFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_search_park_company_facility_provision(page, screenshot):
    build_world()
    page.goto("/")
    page.get_by_role("searchbox").fill("Zhangjiang")
    page.get_by_role("searchbox").press("Enter")
    page.locator("#results-regions").get_by_role("link", name="Zhangjiang High-Tech Park").click()
    assert page.get_by_role("heading", level=1).inner_text().startswith("Zhangjiang High-Tech Park")
    screenshot(page, "journey-1-park")
    page.get_by_role("link", name="Juventas Cell Therapy").first.click()
    assert "Juventas Cell Therapy" in page.get_by_role("heading", level=1).inner_text()
    screenshot(page, "journey-1-company")
    page.locator("#facilities-heading + .table-wrap").get_by_role(
        "link", name="Juventas Zhangjiang Plant"
    ).click()
    assert "Juventas Zhangjiang Plant" in page.get_by_role("heading", level=1).inner_text()
    # Markers render over a plain background even with tiles disabled.
    page.wait_for_selector("#facility-map[data-markers='1']")
    assert page.locator("#facility-map path.leaflet-interactive").count() == 1
    screenshot(page, "journey-1-facility")
    page.locator(".provision-links").get_by_role("link").first.click()
    assert page.get_by_role("heading", level=1).inner_text().startswith("IV.11")
    assert page.get_by_text("50% of the amount per event").is_visible()
    screenshot(page, "journey-1-provision")
    page.get_by_role("link", name=page.locator(".muted a").first.inner_text()).first.click()
    assert page.url.endswith("#IV.11")
    assert page.locator("[id='IV.11']").is_visible()
    assert page.js_errors == []


def test_filter_facilities_by_status_and_export_csv(page, screenshot):
    world = build_world()
    for index in range(3):
        FacilityFactory(slug=f"planned-{index}", region=world.pudong, status="planned")
    page.goto("/facilities/")
    page.get_by_label("Operational").check()  # submits on change
    page.wait_for_url("**status=operational**")
    rows = page.locator("#facility-table tbody tr")
    assert rows.count() == 1
    screenshot(page, "journey-2-facilities-filtered")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Export these rows as CSV").click()
    download = download_info.value
    text = Path(download.path()).read_text(encoding="utf-8-sig")
    exported = list(csv.DictReader(io.StringIO(text)))
    assert [row["slug"] for row in exported] == ["juventas-zhangjiang-plant"]
    assert {row["status"] for row in exported} == {"operational"}


def test_switch_to_chinese_and_back(page, screenshot):
    build_world()
    page.goto("/companies/")
    page.get_by_label("Language").select_option("zh-hans")
    page.wait_for_selector("nav.main-nav >> text=概览")
    assert page.locator("html").get_attribute("lang") == "zh-Hans"
    screenshot(page, "journey-3-chinese")
    page.locator("nav.main-nav").get_by_role("link", name="政策").click()
    assert page.get_by_role("heading", level=1).inner_text() == "政策"  # persisted by cookie
    page.get_by_label("语言").select_option("en")
    page.wait_for_selector("nav.main-nav >> text=Overview")
    page.locator("nav.main-nav").get_by_role("link", name="Companies").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Companies"
    screenshot(page, "journey-3-english")


def test_calculator_shows_trace(page, screenshot):
    build_world()
    page.goto("/calculator/")
    page.get_by_label("As of").fill("2023-12-31")
    page.get_by_label("Registered region").select_option("shanghai")
    page.get_by_label("Cell therapy").check()
    page.locator("#id_event-0-kind").select_option("liability_insurance_premium")
    page.locator("#id_event-0-date").fill("2023-03-01")
    page.locator("#id_event-0-amount").fill("1200000")
    page.locator("#id_event-0-currency").fill("CNY")
    page.get_by_role("button", name="Estimate").click()
    estimate = page.locator("#estimate")
    estimate.wait_for()
    assert "Liability insurance premium subsidy" in estimate.inner_text()
    assert "Eligible, capped" in estimate.inner_text()
    assert estimate.locator(".trace").first.get_by_text("company.registered_region").is_visible()
    assert "capped at 500,000 yuan per policy" in estimate.inner_text()
    screenshot(page, "journey-4-calculator")


def test_phone_width_has_no_horizontal_page_scroll(page, screenshot):
    world = build_world()
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(world.company.get_absolute_url())
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    screenshot(page, "phone-company")
