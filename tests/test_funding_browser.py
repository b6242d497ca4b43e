"""The allocation page in Chromium, as a coordinator uses it: open a settlement period, compute the
allocation, read each line's reason and the totals, apply it."""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.async_api import Browser

from remote_check.accounts.models import Role
from remote_check.database import transaction
from remote_check.programme.models import ProjectStatus
from tests.factories import add_project, add_supplier
from tests.rooms.conftest import chromium
from tests.web_helpers import PASSWORD, WebServer

__all__ = ["chromium"]  # fixtures


@pytest.mark.browser
async def test_a_coordinator_computes_reads_and_applies_the_allocation(
    chromium: Browser, sqlite_server: WebServer
) -> None:
    server = sqlite_server
    await server.add_user("dg.coord", Role.CITY_COORDINATOR, "4419", "东莞协调员")
    async with transaction(server.db.factory) as session:
        bundle = await add_supplier(session, "甲云科技有限公司")
        for _ in range(3):  # 30,000 due each
            await add_project(session, bundle, status=ProjectStatus.QUALIFIED, paid=Decimal(0))
        await add_project(session, bundle, status=ProjectStatus.SAMPLED)
    base = str(server.test_server.make_url("")).rstrip("/")
    page = await chromium.new_page()
    page.set_default_timeout(20_000)
    try:
        await page.goto(f"{base}/login")
        await page.fill("input[name=username]", "dg.coord")
        await page.fill("input[name=password]", PASSWORD)
        await page.click("button[type=submit]")
        await page.wait_for_url(f"{base}/")
        async with page.expect_navigation():
            await page.click("nav a[href='/funding']")
        assert page.url.endswith("/funding/4419")
        assert "2020-06-30" in (await page.text_content("#deadline-ok") or "")
        await page.fill("input[name=name]", "2020年第一结算期")
        await page.fill("input[name=budget]", "70000")
        async with page.expect_navigation():
            await page.click("form[action$='/periods'] button[type=submit]")
        assert "/funding/periods/" in page.url
        async with page.expect_navigation():
            await page.click("#compute")
        reasons = await page.locator("#lines tbody tr").evaluate_all(
            "rows => rows.map(r => r.dataset.reason)"
        )
        assert reasons == ["funded", "funded", "budget_exhausted"]
        assert "结转下一结算期优先拨付" in (await page.text_content("#lines") or "")
        assert "¥60,000.00" in (await page.text_content("#total-funded") or "")
        assert "¥10,000.00" in (await page.text_content("#total-remaining") or "")
        assert "草稿" in (await page.text_content("#plan-status") or "")
        async with page.expect_navigation():
            await page.click("#apply")
        assert "已执行" in (await page.text_content("#plan-status") or "")
        assert await page.locator("#apply").count() == 0
        statuses = await page.locator("#lines tbody tr td:nth-child(3)").all_text_contents()
        assert statuses == ["已兑现", "已兑现", "结转下期"]
    finally:
        await page.close()
