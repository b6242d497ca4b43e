"""The city calendar in Chromium, as a coordinator moves checks by hand: a block dragged to a free
time on another day is moved in the database and stays there; dragged onto a time when the city's
one room is taken, it is refused, goes back, and the page shows the clash and offers the nearest
times as buttons, one of which moves it."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.async_api import Browser, Page

from remote_check.accounts.access import Principal
from remote_check.accounts.models import Role
from remote_check.audit.service import Actor
from remote_check.database import transaction
from scheduler.availability_admin import set_city_rooms
from scheduler.models import CheckSession
from scheduler.service import NewSession, book_session
from tests.rooms.conftest import chromium
from tests.scheduling_factories import PASSWORD, add_experts, add_project, add_supplier, local
from tests.web_helpers import WebServer

__all__ = ["chromium"]  # fixtures

HOUR = dt.timedelta(hours=1)


async def _starts(server: WebServer, session_id: int) -> dt.datetime:
    async with transaction(server.db.factory) as session:
        check = await session.get(CheckSession, session_id)
        assert check is not None
        return check.starts_at


async def _drag(page: Page, session_id: int, day: str, minute: int) -> None:
    """Drag the block of ``session_id`` so that its top lands on ``day`` at ``minute`` (local)."""
    block = page.locator(f".block[data-session='{session_id}']")
    box = await block.bounding_box()
    column = await page.locator(f".day[data-day='{day}']").bounding_box()
    assert box is not None
    assert column is not None
    grid = page.locator("#calendar")
    first = int(await grid.get_attribute("data-first") or 0)
    ppm = float(await grid.get_attribute("data-px-per-minute") or 1)
    x, y = box["x"] + box["width"] / 2, box["y"] + 5
    await page.mouse.move(x, y)
    await page.mouse.down()
    to_x, to_y = column["x"] + column["width"] / 2, column["y"] + (minute - first) * ppm + 5
    await page.mouse.move((x + to_x) / 2, (y + to_y) / 2, steps=5)
    await page.mouse.move(to_x, to_y, steps=5)
    await page.mouse.up()


@pytest.mark.browser
async def test_a_coordinator_drags_a_check_to_a_free_time_and_onto_a_taken_room(
    chromium: Browser, sqlite_server: WebServer
) -> None:
    server = sqlite_server
    user = await server.add_user("gz.coord", Role.CITY_COORDINATOR, "4401", "广州协调员")
    coordinator = Principal(user, Role.CITY_COORDINATOR, "4401", "gz.coord")
    async with transaction(server.db.factory) as session:
        first = await add_project(session, await add_supplier(session, "粤云科技"))
        second = await add_project(session, await add_supplier(session, "穗安软件"))
        experts = await add_experts(session, 6)
        await set_city_rooms(session, "4401", 1, actor=Actor.cli(), now=server.clock.now())
        moving = await book_session(
            session,
            coordinator,
            NewSession(first.id, local(13, 9), local(13, 10), experts[:3]),
            now=server.clock.now(),
        )
        other = await book_session(
            session,
            coordinator,
            NewSession(second.id, local(14, 14), local(14, 15), experts[3:]),
            now=server.clock.now(),
        )
        moving_id, other_id = moving.id, other.id
    base = str(server.test_server.make_url("")).rstrip("/")
    page = await chromium.new_page()
    page.set_default_timeout(20_000)
    try:
        await page.goto(f"{base}/login")
        await page.fill("input[name=username]", "gz.coord")
        await page.fill("input[name=password]", PASSWORD)
        await page.click("button[type=submit]")
        await page.wait_for_url(f"{base}/")
        await page.goto(f"{base}/calendar?city=4401&week=2020-04-13")
        await page.wait_for_selector("#calendar.grid-on")
        block = page.locator(f".block[data-session='{moving_id}']")
        assert await block.get_attribute("data-day") == "2020-04-13"

        # A free time on Tuesday: moved in the database, and the block stays there.
        await _drag(page, moving_id, "2020-04-14", 10 * 60)
        await page.locator("#move-status", has_text="已改期至").wait_for()
        assert "2020-04-14 10:00–11:00" in (await page.text_content("#move-status") or "")
        assert await _starts(server, moving_id) == local(14, 10)
        assert await block.get_attribute("data-day") == "2020-04-14"
        assert await block.get_attribute("data-start") == str(10 * 60)
        assert await page.locator(".day[data-day='2020-04-14'] .block", has_text="10:00–11:00").count() == 1

        # Onto the other check's time: the city's one room is taken; refused, back where it was.
        await _drag(page, moving_id, "2020-04-14", 14 * 60 + 30)
        error = page.locator("#move-error")
        await error.wait_for(state="visible")
        text = await error.text_content() or ""
        assert "会议室" in text
        assert f"#{other_id}" in text
        assert await block.get_attribute("data-start") == str(10 * 60)
        assert await _starts(server, moving_id) == local(14, 10)
        offers = page.locator("#move-offers button.offer")
        assert await offers.count() == 3
        label = (await offers.first.text_content() or "").strip()
        day, times = label.split(" ")
        starts = dt.datetime.fromisoformat(f"{day}T{times[:5]}:00+08:00")
        assert starts + HOUR <= local(14, 14) or starts >= local(14, 15)  # the room is free then

        # Pressing an offered time moves the check there.
        await offers.first.click()
        await page.locator("#move-status", has_text="已改期至").wait_for()
        assert await _starts(server, moving_id) == starts
        assert await page.locator("#move-error").is_hidden()
        # The keyboard's way stays: each block links to its move form.
        assert await block.locator("a.move").get_attribute("href") == f"/sessions/{moving_id}/move"
    finally:
        await page.close()
