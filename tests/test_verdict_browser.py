"""The verdict in Chromium: the three experts give their opinions from the session's page, the lead
proposes 合格, the coordinator confirms, and the project shows 合格."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, Page

from remote_check.database import transaction
from tests.rooms.conftest import chromium
from tests.scheduling_factories import PASSWORD
from tests.verdict_world import verdict_world
from tests.web_helpers import WebServer

__all__ = ["chromium"]  # fixtures


async def _sign_in(chromium: Browser, base: str, username: str) -> Page:
    context = await chromium.new_context()
    page = await context.new_page()
    page.set_default_timeout(20_000)
    await page.goto(f"{base}/login")
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{base}/")
    return page


@pytest.mark.browser
async def test_experts_opine_the_lead_proposes_the_coordinator_confirms(
    chromium: Browser, sqlite_server: WebServer
) -> None:
    server = sqlite_server
    async with transaction(server.db.factory) as session:
        w = await verdict_world(session)
    base = str(server.test_server.make_url("")).rstrip("/")
    pages: list[Page] = []
    try:
        for n in (1, 2, 3):
            page = await _sign_in(chromium, base, f"expert{n}")
            pages.append(page)
            await page.goto(f"{base}/sessions/{w.session_id}")
            async with page.expect_navigation():
                await page.click("#verdict-link")
            assert "A1" in (await page.text_content("#checklist") or "")
            for standard in ("implementation", "finance", "function"):
                await page.check(f"fieldset[data-standard={standard}] input[value=yes]")
            async with page.expect_navigation():
                await page.click("#save-opinions")
            row = page.locator(f"#opinions tr[data-expert='{w.experts[n - 1].expert_id}']")
            assert (await row.text_content() or "").count("通过") == 3
        lead = pages[0]
        await lead.reload()
        await lead.select_option("#outcome", "qualified")
        await lead.fill("#reasons", "三项标准全体专家均认为通过")
        async with lead.expect_navigation():
            await lead.click("#propose")
        assert await lead.get_attribute("#verdict", "data-state") == "proposed"

        coordinator = await _sign_in(chromium, base, "gz.coord")
        pages.append(coordinator)
        await coordinator.goto(f"{base}/projects/{w.project_id}")
        async with coordinator.expect_navigation():
            await coordinator.click("#verdict-link")
        assert "三项标准全体专家均认为通过" in (await coordinator.text_content("#verdict") or "")
        async with coordinator.expect_navigation():
            await coordinator.click("#confirm")
        assert await coordinator.get_attribute("#verdict", "data-state") == "confirmed"
        await coordinator.goto(f"{base}/projects/{w.project_id}")
        assert "合格" in (await coordinator.text_content("h1 .tag") or "")
        await coordinator.goto(f"{base}/projects/{w.project_id}/conclusion")
        assert await coordinator.locator("#draft").count() == 0
        assert "合格" in (await coordinator.text_content("#outcome") or "")
    finally:
        for page in pages:
            await page.context.close()
