"""The booking form in Chromium, as a coordinator uses it: choose a project (the form shows its
enterprise, supplier and teams and marks the experts tied to them), fill in the time and the panel,
press 预订; a Sunday asks for a confirmation first; then reschedule from the session's page."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser

from remote_check.accounts.models import Role
from remote_check.database import transaction
from tests.rooms.conftest import chromium
from tests.scheduling_factories import PASSWORD, add_expert, add_experts, add_project, add_supplier
from tests.web_helpers import WebServer

__all__ = ["chromium"]  # fixtures


@pytest.mark.browser
async def test_a_coordinator_chooses_fills_books_and_reschedules(
    chromium: Browser, sqlite_server: WebServer
) -> None:
    server = sqlite_server
    await server.add_user("gz.coord", Role.CITY_COORDINATOR, "4401", "广州协调员")
    async with transaction(server.db.factory) as session:
        supplier = await add_supplier(session, "粤云科技", teams=2)
        await add_project(session, await add_supplier(session, "别的服务商"))
        project = await add_project(session, supplier)
        experts = await add_experts(session, 4)
        tied = await add_expert(session, "关联专家", employer_credit_code=supplier.credit_code)
        code = project.code
    base = str(server.test_server.make_url("")).rstrip("/")
    page = await chromium.new_page()
    page.set_default_timeout(20_000)
    try:
        await page.goto(f"{base}/login")
        await page.fill("input[name=username]", "gz.coord")
        await page.fill("input[name=password]", PASSWORD)
        await page.click("button[type=submit]")
        await page.wait_for_url(f"{base}/")
        await page.goto(f"{base}/sessions/new")
        option = page.locator("#project option", has_text=code)
        assert "粤云科技" in (await option.text_content() or "")  # code, enterprise and supplier
        await page.fill("input[name=date]", "2020-04-19")  # typed before the project: kept
        async with page.expect_navigation():
            await page.select_option("#project", str(project.id))  # the form shows itself again for it
        assert "2 个" in (await page.text_content("#teams") or "")
        assert await page.input_value("input[name=date]") == "2020-04-19"
        assert await page.locator(f"select[name=lead] option[value='{tied.id}']").is_disabled()
        await page.fill("input[name=start]", "10:00")
        await page.fill("input[name=end]", "11:00")
        await page.select_option("select[name=lead]", str(experts[0]))
        for expert in experts[1:3]:
            await page.check(f"input[name=members][value='{expert}']")
        async with page.expect_navigation():
            await page.click("#book")
        assert "周末" in (await page.text_content("#warning") or "")  # 19 April 2020 is a Sunday
        assert await page.input_value("#project") == str(project.id)
        await page.check("#confirm-off-hours")
        async with page.expect_navigation():
            await page.click("#book")
        assert "/sessions/" in page.url
        assert await page.get_attribute("#phase", "data-phase") == "booked"
        async with page.expect_navigation():
            await page.click("#reschedule")
        await page.fill("input[name=date]", "2020-04-20")  # a Monday
        await page.select_option("select[name=lead]", str(experts[3]))
        async with page.expect_navigation():
            await page.click("#save")
        assert "2020-04-20 10:00" in (await page.text_content("#when") or "")
        assert "专家4" in (await page.text_content("table.panel") or "")
    finally:
        await page.close()


@pytest.mark.browser
async def test_a_refused_booking_offers_times_and_pressing_one_books_it(
    chromium: Browser, sqlite_server: WebServer
) -> None:
    server = sqlite_server
    await server.add_user("gz.coord", Role.CITY_COORDINATOR, "4401", "广州协调员")
    async with transaction(server.db.factory) as session:
        supplier = await add_supplier(session, "粤云科技")
        first = await add_project(session, supplier)
        second = await add_project(session, supplier)
        experts = await add_experts(session, 6)
    base = str(server.test_server.make_url("")).rstrip("/")
    page = await chromium.new_page()
    page.set_default_timeout(20_000)
    try:
        await page.goto(f"{base}/login")
        await page.fill("input[name=username]", "gz.coord")
        await page.fill("input[name=password]", PASSWORD)
        await page.click("button[type=submit]")
        await page.wait_for_url(f"{base}/")
        for project, panel in ((first, experts[:3]), (second, experts[3:])):
            await page.goto(f"{base}/sessions/new?project_id={project.id}")
            await page.fill("input[name=date]", "2020-04-13")  # a Monday
            await page.fill("input[name=start]", "09:00" if project is first else "09:30")
            await page.fill("input[name=end]", "10:00" if project is first else "10:30")
            await page.select_option("select[name=lead]", str(panel[0]))
            for expert in panel[1:]:
                await page.check(f"input[name=members][value='{expert}']")
            async with page.expect_navigation():
                await page.click("#book")
        # The second clashes with the first (one team, 15 minutes' buffer): three times are offered.
        assert "粤云科技" in (await page.text_content("#error") or "")
        offers = page.locator("#offers button.offer")
        assert await offers.count() == 3
        assert (await offers.first.text_content() or "").strip() == "2020-04-13 10:15–11:15"
        async with page.expect_navigation():
            await offers.first.click()
        assert "/sessions/" in page.url
        assert "new" not in page.url
        assert await page.get_attribute("#phase", "data-phase") == "booked"
        assert "2020-04-13 10:15" in (await page.text_content("#when") or "")
    finally:
        await page.close()
