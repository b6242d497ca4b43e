"""The replay page in headless Chromium: an auditor clicks an item and the video shows the moment
the expert marked; a link opens at a time; a person's own tracks play."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import Browser, Page

from recordings.models import Replay, ReplayState
from remote_check.checklist.models import Standard
from remote_check.database import transaction
from tests.recordings.replay_world import ReplayWorld, build_replay_world, replay_media
from tests.rooms.conftest import chromium
from tests.web_helpers import PASSWORD, WebServer

__all__ = ["chromium", "replay_media"]  # fixtures

# Polled conditions must be synchronous: Playwright's wait_for_function does not await promises.
SEEK_SHOWN = """(target) => { const s = window.rc.poll().lastSeek;
  return s !== null && s.target === target && s.seekedTime !== null && s.frameAt !== null; }"""


async def _open(chromium: Browser, w: ReplayWorld, query: str = "") -> Page:
    page = await chromium.new_page()
    base = str(w.web.test_server.make_url(""))
    login = await page.request.post(f"{base}/api/login", data={"username": "auditor", "password": PASSWORD})
    assert login.ok, await login.text()
    await page.goto(f"{base}{w.url(query)}")
    await page.wait_for_function("() => window.rc.poll().readyState >= 1", polling=50)
    return page


async def _seek(page: Page, target: float) -> dict[str, float]:
    await page.wait_for_function(SEEK_SHOWN, arg=target, polling=20, timeout=10_000)
    seek: dict[str, float] = (await page.evaluate("() => window.rc.poll()"))["lastSeek"]
    return seek


async def test_a_click_on_an_item_shows_its_first_mark(
    chromium: Browser, sqlite_server: WebServer, replay_media: Path
) -> None:
    w = await build_replay_world(sqlite_server, replay_media)
    page = await _open(chromium, w)
    start = w.marks[w.marked][0][0]
    await page.click(f"#item-{w.marked} .item-seek")
    seek = await _seek(page, start)
    assert abs(seek["seekedTime"] - start) < 0.1
    assert abs(seek["frameTime"] - start) < 0.1  # the picture shown is the marked moment
    await page.wait_for_function("() => !window.rc.poll().paused", polling=50)  # and it plays
    assert f"item={w.marked}" in page.url  # the address now points at the item
    finance = w.codes[Standard.FINANCE][0]
    await page.click(f'#timeline a.seg[data-code="{finance}"]')
    seek = await _seek(page, w.marks[finance][0][0])
    assert abs(seek["seekedTime"] - 6.0) < 0.1
    unmarked = w.codes[Standard.FUNCTION][0]
    assert await page.is_disabled(f"#item-{unmarked} .item-seek")


async def test_a_link_opens_at_its_time_and_each_person_can_be_played(
    chromium: Browser, sqlite_server: WebServer, replay_media: Path
) -> None:
    w = await build_replay_world(sqlite_server, replay_media)
    page = await _open(chromium, w, "?t=9.5")
    seek = await _seek(page, 9.5)
    assert abs(seek["seekedTime"] - 9.5) < 0.1
    assert (await page.evaluate("() => window.rc.poll()"))["paused"]  # opened there, not playing
    for selector in ('section[data-part="1"] video.track', 'section[data-part="2"] audio'):
        await page.eval_on_selector(selector, "(m) => { m.muted = true; return m.play(); }")
        await page.wait_for_function(
            f"() => document.querySelector({selector!r}).currentTime > 0.3", polling=50, timeout=10_000
        )
    size = await page.eval_on_selector(
        'section[data-part="1"] video.track', "(v) => [v.videoWidth, v.videoHeight]"
    )
    assert size == [320, 180]


async def _replay_stands(w: ReplayWorld, state: ReplayState, progress: float) -> None:
    async with transaction(w.web.db.factory) as session:
        replay = await session.get(Replay, w.session_id)
        assert replay is not None
        replay.state = state
        replay.progress = progress


async def test_the_page_follows_the_render_and_shows_the_replay_when_ready(
    chromium: Browser, sqlite_server: WebServer, replay_media: Path
) -> None:
    w = await build_replay_world(sqlite_server, replay_media)
    await _replay_stands(w, ReplayState.RENDERING, 0.25)
    page = await chromium.new_page()
    base = str(w.web.test_server.make_url(""))
    login = await page.request.post(f"{base}/api/login", data={"username": "auditor", "password": PASSWORD})
    assert login.ok
    await page.goto(f"{base}{w.url()}")
    assert await page.text_content("#replay-state") == "回放生成中"
    assert await page.text_content("#replay-percent") == "25%"
    assert await page.query_selector("video#replay") is None
    await _replay_stands(w, ReplayState.RENDERING, 0.6)
    await page.wait_for_function("() => document.getElementById('replay-percent').textContent === '60%'")
    await _replay_stands(w, ReplayState.READY, 1.0)
    await page.wait_for_selector("video#replay", timeout=10_000)  # the page reloaded with the video
    await page.wait_for_function("() => window.rc.poll().readyState >= 1", polling=50)
