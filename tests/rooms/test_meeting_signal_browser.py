"""A meeting nominee's signal test in Chromium: the personal link's test page (the connectivity
test of issue 3) measures a real round trip through the server; the coordinator sees the figures."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import Browser

from remote_check.accounts.models import Role
from tests.rooms.conftest import ServerFactory
from tests.web_helpers import WebServer


@pytest.mark.browser
@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
async def test_a_nominee_tests_by_the_personal_link_and_the_city_sees_it(
    make_rooms_server: ServerFactory, chromium: Browser, db: Any, clock: Any
) -> None:
    test_server = await make_rooms_server()
    server = WebServer(test_server, db, clock)
    try:
        await server.add_user("province", Role.PROVINCE_ADMIN, None, "省厅")
        await server.add_user("dg.coord", Role.CITY_COORDINATOR, "4419", "东莞协调员")
        province = await server.signed_in("province")
        made = await province.post(
            "/api/meetings",
            json={
                "title": "抽查培训",
                "starts_at": "2020-04-15T09:00:00+08:00",
                "ends_at": "2020-04-15T12:00:00+08:00",
            },
        )
        meeting_id = (await made.json())["id"]
        coordinator = await server.signed_in("dg.coord")
        nominated = await coordinator.post(
            f"/api/meetings/{meeting_id}/cities/4419/nominations",
            json={"role": "expert", "organisation": "东莞理工学院", "name": "陈专家"},
        )
        link = (await nominated.json())["link"]
        page = await chromium.new_page()
        page.set_default_timeout(40_000)
        await page.goto(str(test_server.make_url(link + "?lang=en")))
        async with page.expect_navigation():
            await page.click("#test-link")
        await page.click("#start")
        await page.wait_for_function("() => window.connectivity.state.done", polling=200)
        state = await page.evaluate("window.connectivity.state")
        print(f"measured: {state['measured']}")
        assert state["error"] is None, state
        assert state["saved"]["passed"] is True, state
        cities = await (await coordinator.get(f"/api/meetings/{meeting_id}/cities")).json()
        [person] = cities["items"][0]["people"]
        assert person["test"]["passed"] is True
        assert person["test"]["fps"] >= 20
        html = await (await coordinator.get(f"/meetings/{meeting_id}")).text()
        assert "通过" in html
        assert "kbps" in html
    finally:
        await server.close()
