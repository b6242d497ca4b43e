"""Publication and objection in Chromium: the coordinator publishes the city's results, the supplier
objects through its link with a PDF, the coordinator reads it and overturns the violation."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, FilePayload
from sqlalchemy import select

from remote_check.audit.service import Actor
from remote_check.database import transaction
from remote_check.outcomes.cascade import apply_outcome
from remote_check.outcomes.kinds import Outcome
from remote_check.outcomes.sanction_models import PartyKind, Publication
from remote_check.programme.models import Supplier
from scheduler.objection_links import ObjectionLink, sign
from tests.rooms.conftest import chromium
from tests.sanction_world import NOW, build_world
from tests.scheduling_factories import PASSWORD
from tests.web_helpers import WebServer
from web.keys import SECRET

__all__ = ["chromium"]  # fixtures

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.mark.browser
async def test_publish_object_and_overturn_in_the_browser(
    chromium: Browser, sqlite_server: WebServer
) -> None:
    server = sqlite_server
    world = await build_world(server.db)
    async with transaction(server.db.factory) as s:
        await apply_outcome(s, Actor.of(world.coordinator), world.violator, Outcome.VIOLATION, at=NOW)
    base = str(server.test_server.make_url("")).rstrip("/")
    page = await chromium.new_page()
    page.set_default_timeout(20_000)
    party = await chromium.new_page()  # another context: not signed in
    party.set_default_timeout(20_000)
    try:
        await page.goto(f"{base}/login")
        await page.fill("input[name=username]", "coord4401")
        await page.fill("input[name=password]", PASSWORD)
        await page.click("button[type=submit]")
        await page.wait_for_url(f"{base}/")
        await page.click("nav >> text=抽查结果")
        async with page.expect_navigation():
            await page.click("#publish button")
        assert "违规云科技有限公司" in (await page.text_content("#results") or "")
        async with transaction(server.db.factory) as s:
            publication = await s.scalar(select(Publication))
            assert publication is not None
        token = sign(
            ObjectionLink(publication.id, world.violator, PartyKind.SUPPLIER, publication.objections_until),
            server.test_server.app[SECRET],
        )
        await party.goto(f"{base}/objections/4401/{token}")
        await party.fill("textarea[name=text]", "合同价格与同类合同相符")
        await party.set_input_files(
            "input[name=files]", files=[FilePayload(name="合同.pdf", mimeType="application/pdf", buffer=PDF)]
        )
        async with party.expect_navigation():
            await party.click("button[type=submit]")
        assert "异议已提交" in (await party.text_content("main") or "")

        await page.reload()
        section = page.locator("section.objection")
        assert "合同价格与同类合同相符" in (await section.text_content() or "")
        await section.locator("input[value=overturn]").check()
        await section.locator("select[name=new_outcome]").select_option("unqualified")
        await section.locator("textarea[name=reason]").fill("价格有佐证，不构成骗补")
        async with page.expect_navigation():
            await section.locator("button[type=submit]").click()
        assert "已撤销原结论" in (await page.text_content("section.objection") or "")
    finally:
        await party.close()
        await page.close()
    async with transaction(server.db.factory) as s:
        supplier = await s.get(Supplier, world.supplier)
        assert supplier is not None
        assert supplier.listed
