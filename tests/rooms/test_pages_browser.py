"""Every kind of page in Chromium, under the server's Content-Security-Policy: no page runs inline
script or loads anything the policy refuses, none asks for a missing file (the favicon), staff pages
fit a 390 px wide phone, and a guest who chose English sees no Chinese but names."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pytest
from playwright.async_api import Browser, BrowserContext, ConsoleMessage, Page, Response

from remote_check.database import transaction
from scheduler.models import CheckSession
from tests.rooms.session_world import World
from tests.web_helpers import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("db", ["sqlite"], indirect=True)]

# Violations as the page itself sees them (the policy's own event), besides the console's report.
WATCH_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) =>
  window.__violations.push(`${e.violatedDirective} ${e.blockedURI}`));
"""
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]+")


@dataclass
class Watched:
    """What went wrong while pages were open: CSP reports, failed requests, script errors."""

    problems: list[str] = field(default_factory=list)

    def attach(self, page: Page) -> None:
        page.on("console", self._console)
        page.on("response", self._response)
        page.on("pageerror", lambda error: self.problems.append(f"script error: {error}"))

    def _console(self, message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            self.problems.append(f"console: {message.text}")

    def _response(self, response: Response) -> None:
        if response.status == 404:
            self.problems.append(f"404: {response.url}")


async def visit(page: Page, watched: Watched, url: str, ready: str | None = None) -> None:
    response = await page.goto(url)
    assert response is not None, url
    assert response.status == 200, url
    assert "script-src 'self';" in (await response.all_headers())["content-security-policy"]
    if ready:
        await page.wait_for_function(ready, polling=50)
    await page.wait_for_load_state("load")
    # the violation events are dispatched as tasks: one more task of the page's own runs after them
    violations = await page.evaluate(
        "() => new Promise((ok) => setTimeout(() => ok(window.__violations), 0))"
    )
    watched.problems.extend(f"{url}: {v}" for v in violations)


async def staff_context(chromium: Browser, world: World, username: str, width: int = 1280) -> BrowserContext:
    context = await chromium.new_context(viewport={"width": width, "height": 800})
    await context.add_init_script(WATCH_VIOLATIONS)
    login = await context.request.post(
        str(world.web.test_server.make_url("/api/login")), data={"username": username, "password": PASSWORD}
    )
    assert login.status == 200
    return context


@pytest.fixture
async def staff_pages(world: World) -> list[str]:
    """The main staff pages, with a campaign to show."""
    coordinator = await world.staff("gz.coord")
    made = await coordinator.post(
        "/api/campaigns",
        json={"city_code": "4401", "period": "2020", "budget": "3000000", "deadline": "2020-06-30"},
    )
    assert made.status == 201, await made.text()
    campaign = (await made.json())["id"]
    async with transaction(world.web.db.factory) as session:
        session_row = await session.get(CheckSession, world.session_id)
        assert session_row is not None
        project_id = session_row.project_id
    return [
        "/",
        "/projects",
        f"/projects/{project_id}",
        "/sessions",
        f"/sessions/{world.session_id}",
        "/sessions/new",
        "/campaigns",
        f"/campaigns/{campaign}",
        "/imports",
    ]


ADMIN_PAGES = ["/audit", "/users"]


JOINED_OR_WAITING = "() => window.rc && ['joined', 'waiting'].includes(window.rc.state.phase)"


async def test_every_page_kind_runs_under_the_policy(
    chromium: Browser, world: World, staff_pages: list[str]
) -> None:
    base = str(world.web.test_server.make_url("")).rstrip("/")
    watched = Watched()
    staff = await staff_context(chromium, world, "gz.coord")
    page = await staff.new_page()
    watched.attach(page)
    for path in staff_pages:
        await visit(page, watched, base + path)
    await visit(
        page, watched, f"{base}/sessions/{world.session_id}/check", "() => !!document.querySelector('#check')"
    )
    await visit(page, watched, f"{base}/sessions/{world.session_id}/room", JOINED_OR_WAITING)
    admin = await staff_context(chromium, world, "admin")
    admin_page = await admin.new_page()
    watched.attach(admin_page)
    for path in ADMIN_PAGES:
        await visit(admin_page, watched, base + path)

    guest = await chromium.new_context()
    await guest.add_init_script(WATCH_VIOLATIONS)
    guest_page = await guest.new_page()
    watched.attach(guest_page)
    token = world.tokens["enterprise"]
    await visit(guest_page, watched, f"{base}/join/{token}")
    assert await guest_page.get_attribute("#enter-room", "href") == f"/join/{token}/room"  # set by its script
    await visit(guest_page, watched, f"{base}/join/{token}/check")
    await visit(guest_page, watched, f"{base}/join/{token}/room", JOINED_OR_WAITING)
    await visit(guest_page, watched, f"{base}/login")
    assert watched.problems == []

    icon = await guest_page.request.get(f"{base}/favicon.ico")
    assert icon.status == 200
    assert icon.headers["content-type"] == "image/vnd.microsoft.icon"
    assert await guest_page.get_attribute('link[rel="icon"]', "href") == "/favicon.ico"


async def test_staff_pages_fit_a_phone(chromium: Browser, world: World, staff_pages: list[str]) -> None:
    base = str(world.web.test_server.make_url("")).rstrip("/")
    wide = {}
    for username, paths in (("gz.coord", staff_pages), ("admin", ADMIN_PAGES)):
        phone = await staff_context(chromium, world, username, width=390)
        page = await phone.new_page()
        for path in paths:
            await page.goto(base + path)
            width = await page.evaluate("() => document.documentElement.scrollWidth")
            if width > 390:
                wide[path] = width
    assert wide == {}


async def test_a_guest_who_chose_english_sees_no_chinese_but_names(chromium: Browser, world: World) -> None:
    base = str(world.web.test_server.make_url("")).rstrip("/")
    admin = await world.staff("admin")
    session = await (await admin.get(f"/api/sessions/{world.session_id}")).json()
    detail = await (await admin.get(f"/api/projects/{session['project_id']}")).json()
    names = {
        "中文",
        detail["enterprise_name"],
        detail["supplier_name"],
        "陈经理",
        "李工",
        "林",
        "省审计厅",
    }
    guest = await chromium.new_context()
    page = await guest.new_page()
    token = world.tokens["enterprise"]
    untranslated = {}
    for path, ready in (
        (f"/join/{token}?lang=en", None),
        (f"/join/{token}/check?lang=en", None),
        (f"/join/{token}/room?lang=en", JOINED_OR_WAITING),
    ):
        await page.goto(base + path)
        if ready:
            await page.wait_for_function(ready, polling=50)
        text = await page.evaluate("() => document.body.innerText")
        for name in names:
            text = text.replace(name, "")
        if found := CJK.findall(text):
            untranslated[path] = found
    assert untranslated == {}
