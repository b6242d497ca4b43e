"""The replay page's layout and policy in Chromium: it runs under the Content-Security-Policy, each
track's download link stays on one line, and the page fits a 390 px wide phone."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser

from tests.recordings.replay_world import build_replay_world, replay_media
from tests.rooms.conftest import chromium
from tests.rooms.test_pages_browser import WATCH_VIOLATIONS, Watched, visit
from tests.web_helpers import PASSWORD, WebServer

__all__ = ["chromium", "replay_media"]  # fixtures

pytestmark = pytest.mark.browser

# One client rect per line box the link's text occupies.
LINES_OF_DOWNLOADS = (
    "() => [...document.querySelectorAll('a[download]')].map((a) => a.getClientRects().length)"
)


@pytest.mark.parametrize("width", [1280, 390])
async def test_download_links_keep_to_one_line_and_the_page_fits(
    chromium: Browser, sqlite_server: WebServer, replay_media: Path, width: int
) -> None:
    w = await build_replay_world(sqlite_server, replay_media)
    context = await chromium.new_context(viewport={"width": width, "height": 800})
    await context.add_init_script(WATCH_VIOLATIONS)
    page = await context.new_page()
    watched = Watched()
    watched.attach(page)
    base = str(w.web.test_server.make_url("")).rstrip("/")
    login = await page.request.post(f"{base}/api/login", data={"username": "auditor", "password": PASSWORD})
    assert login.ok
    await visit(page, watched, base + w.url(), "() => window.rc && window.rc.poll().readyState >= 1")
    assert watched.problems == []
    lines = await page.evaluate(LINES_OF_DOWNLOADS)
    assert lines
    assert set(lines) == {1}
    assert await page.evaluate("() => document.documentElement.scrollWidth") <= width
