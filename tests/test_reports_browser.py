"""A coordinator files the city's results from the reports page; the province reads the dashboard."""

from __future__ import annotations

import os

import pytest
from playwright.async_api import Browser

from remote_check.accounts.models import Role
from remote_check.database import transaction
from tests.report_world import build_world
from tests.rooms.conftest import chromium
from tests.web_helpers import PASSWORD, WebServer

__all__ = ["chromium"]  # fixtures


@pytest.mark.browser
async def test_a_coordinator_files_and_the_province_sees_the_dashboard(
    chromium: Browser, sqlite_server: WebServer
) -> None:
    server = sqlite_server
    async with transaction(server.db.factory) as session:
        world = await build_world(session)
    await server.add_user("gz.coord", Role.CITY_COORDINATOR, "4401", "广州协调员")
    await server.add_user("admin", Role.PROVINCE_ADMIN)
    base = str(server.test_server.make_url("")).rstrip("/")
    page = await chromium.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(20_000)

    async def sign_in(username: str) -> None:
        await page.context.clear_cookies()
        await page.goto(f"{base}/login")
        await page.fill("input[name=username]", username)
        await page.fill("input[name=password]", PASSWORD)
        await page.click("button[type=submit]")
        await page.wait_for_url(f"{base}/")

    try:
        await sign_in("gz.coord")
        await page.click("a[href='/reports']")
        form = page.locator(f"form[action='/campaigns/{world.campaign_id}/report']")
        await form.locator("select[name=kind]").select_option("results")
        await form.locator("input[name=note]").fill("首次报送")
        async with page.expect_navigation():
            await form.locator("button[type=submit]").click()
        row = page.locator("#filings tr[data-current=yes]")
        assert await row.count() == 1
        assert "首次报送" in (await row.text_content() or "")
        async with page.expect_download() as download:
            await row.locator("a", has_text="PDF").click()
        assert (await download.value).suggested_filename.endswith("-4401-results.pdf")

        await sign_in("admin")
        await page.click("a[href='/dashboard']")
        chart = page.locator("svg#progress-chart")
        assert await chart.get_attribute("role") == "img"
        assert await chart.locator("rect").count() >= 5
        assert await page.locator("#cities tr[data-city]").count() == 2
        if os.environ.get("RC_SCREENSHOTS"):
            await page.screenshot(
                path=os.path.join(os.environ["RC_SCREENSHOTS"], "dashboard.png"), full_page=True
            )
    finally:
        await page.close()
