"""The connectivity test: the verdict, results stored and audited, shown on the session page, and
a real round trip through the server's echo peer in headless Chromium."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Browser
from sqlalchemy import func, select, update

from media.config import RoomConfig
from media.echo import EchoHost
from remote_check.accounts.models import Role
from remote_check.audit.models import AuditEntry
from remote_check.database import transaction
from remote_check.errors import Conflict
from remote_check.experts.models import Expert
from scheduler.connectivity import Measured, problems
from scheduler.models import ConnectivityCheck
from tests.rooms.conftest import ServerFactory
from tests.scheduling_factories import add_experts, add_project, add_supplier, local
from tests.web_helpers import Browser as Client
from tests.web_helpers import WebServer
from web.pages.connectivity import ECHOES

GOOD: dict[str, Any] = {
    "camera_ok": True,
    "microphone_ok": True,
    "screen_ok": True,
    "fps": 29.6,
    "bitrate_kbps": 900,
    "rtt_ms": 12,
    "user_agent": "Mozilla/5.0 test",
}


def test_the_verdict_names_every_problem() -> None:
    good = Measured(**GOOD)
    assert problems(good) == []
    bad = Measured(False, True, False, 12.0, 80, 900)
    assert [m.en for m in problems(bad)] == [
        "The camera cannot be used",
        "The screen cannot be shared",
        "The frame rate is too low (12.0 fps, at least 20)",
        "The bitrate is too low (80 kbps, at least 150)",
        "The network delay is too high (900 ms, at most 400)",
    ]
    assert problems(Measured(True, True, True, 20.0, 150, None)) == [], "no delay measured is no problem"


@dataclass
class Invited:
    coordinator: Client
    session_id: int
    guest_id: int
    guest_path: str  # /join/<token>
    expert_user: str


async def invite(server: WebServer) -> Invited:
    """A Guangzhou coordinator books a session tomorrow, with an enterprise guest; the lead expert
    has an account."""
    await server.add_user("gz.coord", Role.CITY_COORDINATOR, "4401", "广州协调员")
    expert_user = await server.add_user("expert.li", Role.EXPERT, None, "李专家")
    async with transaction(server.db.factory) as session:
        supplier = await add_supplier(session, "粤云科技")
        project = await add_project(session, supplier)
        experts = await add_experts(session, 3)
        await session.execute(update(Expert).where(Expert.id == experts[0]).values(user_id=expert_user))
    coordinator = await server.signed_in("gz.coord")
    start = local(11, 10)
    booked = await coordinator.post(
        "/api/sessions",
        json={
            "project_id": project.id,
            "starts_at": start.isoformat(),
            "ends_at": (start + dt.timedelta(minutes=60)).isoformat(),
            "panel": experts,
            "confirm_off_hours": True,  # a Saturday
        },
    )
    assert booked.status == 201, await booked.text()
    session_id = (await booked.json())["id"]
    added = await coordinator.post(
        f"/api/sessions/{session_id}/guests", json={"kind": "enterprise", "name": "陈经理"}
    )
    guest = await added.json()
    return Invited(coordinator, session_id, guest["id"], urlsplit(guest["link"]).path, "expert.li")


async def stored(server: WebServer) -> list[ConnectivityCheck]:
    async with server.db.factory() as session:
        return list((await session.scalars(select(ConnectivityCheck).order_by(ConnectivityCheck.id))).all())


async def guest_cell(client: Client, session_id: int, guest_id: int, lang: str = "zh") -> str:
    html = await (await client.get(f"/sessions/{session_id}?lang={lang}")).text()
    start = html.index(f'data-guest="{guest_id}"')
    return html[start : html.index("</td>", start)]


async def test_a_guests_result_is_stored_audited_and_shown_to_the_coordinator(server: WebServer) -> None:
    invited = await invite(server)
    assert "未测试" in await guest_cell(invited.coordinator, invited.session_id, invited.guest_id)
    guest = server.browser()
    page = await guest.get(invited.guest_path + "/check")
    assert page.status == 200
    assert "会前连通测试" in await page.text()
    answer = await guest.post(invited.guest_path + "/check/result", json=GOOD)
    assert answer.status == 200, await answer.text()
    assert (await answer.json())["passed"] is True
    [row] = await stored(server)
    assert (row.guest_id, row.user_id, row.session_id, row.passed) == (
        invited.guest_id,
        None,
        invited.session_id,
        True,
    )
    assert (row.fps, row.bitrate_kbps, row.rtt_ms, row.user_agent) == (29.6, 900, 12, "Mozilla/5.0 test")
    assert row.at == server.clock.now()
    cell = await guest_cell(invited.coordinator, invited.session_id, invited.guest_id)
    assert 'data-passed="true"' in cell
    assert "通过" in cell
    assert "30 fps · 900 kbps · 12 ms" in cell
    assert "Passed" in await guest_cell(invited.coordinator, invited.session_id, invited.guest_id, "en")

    server.clock.advance(dt.timedelta(minutes=5))
    failed = await guest.post(invited.guest_path + "/check/result?lang=en", json={**GOOD, "fps": 8.0})
    assert (await failed.json()) == {
        "id": 2,
        "passed": False,
        "problems": ["The frame rate is too low (8.0 fps, at least 20)"],
    }
    cell = await guest_cell(invited.coordinator, invited.session_id, invited.guest_id, "en")
    assert 'data-passed="false"' in cell
    assert "Failed" in cell, "the latest result is shown"
    async with server.db.factory() as session:
        entries = (
            await session.scalars(select(AuditEntry).where(AuditEntry.action == "connectivity.check"))
        ).all()
    assert [(e.actor, e.target, e.details["passed"], e.details["fps"]) for e in entries] == [
        (f"guest:{invited.guest_id}", f"session:{invited.session_id}", True, "29.6"),
        (f"guest:{invited.guest_id}", f"session:{invited.session_id}", False, "8.0"),
    ]


async def test_a_panel_expert_tests_after_signing_in(server: WebServer) -> None:
    invited = await invite(server)
    expert = await server.signed_in(invited.expert_user)
    page = await expert.get(f"/sessions/{invited.session_id}/check?lang=en")
    assert page.status == 200
    assert "李专家" in await page.text()
    answer = await expert.post(
        f"/sessions/{invited.session_id}/check/result", json={**GOOD, "screen_ok": False}
    )
    assert (await answer.json())["problems"] == ["The screen cannot be shared"], "English, as chosen"
    [row] = await stored(server)
    assert row.guest_id is None
    assert row.user_id is not None
    html = await (await invited.coordinator.get(f"/sessions/{invited.session_id}?lang=en")).text()
    panel = html[html.index('class="list panel"') : html.index("</table>", html.index('class="list panel"'))]
    assert panel.count("Not tested") == 2
    assert panel.count('data-passed="false"') == 1


async def test_bad_results_and_bad_links_change_nothing(server: WebServer) -> None:
    invited = await invite(server)
    await server.add_user("fs.coord", Role.CITY_COORDINATOR, "4406")
    guest = server.browser()
    result = invited.guest_path + "/check/result"
    for body in ({**GOOD, "fps": -1}, {**GOOD, "extra": 1}, {"camera_ok": True}, "nonsense"):
        refused = await guest.post(result + "?lang=en", json=body)
        assert refused.status == 422
        assert (await refused.json())["error"]["message"] == "Malformed test result"
    forged = invited.guest_path[:-2] + ("AA" if not invited.guest_path.endswith("AA") else "BB")
    assert (await guest.post(forged + "/check/result", json=GOOD)).status == 403
    page = await guest.get(forged + "/check?lang=zh")
    assert page.status == 403
    assert "链接无效" in await page.text()
    assert (await guest.get(forged + "/check/ws")).status == 403
    other_city = await server.signed_in("fs.coord")
    assert (await other_city.get(f"/sessions/{invited.session_id}/check")).status == 404
    assert (await other_city.post(f"/sessions/{invited.session_id}/check/result", json=GOOD)).status == 404
    anonymous = await server.browser().get(f"/sessions/{invited.session_id}/check")
    assert anonymous.status == 303
    server.clock.set(local(11, 11) + dt.timedelta(hours=3))  # the session ended more than 2 hours ago
    expired = await guest.get(invited.guest_path + "/check?lang=en")
    assert expired.status == 410
    assert "This link has expired" in await expired.text()
    assert (await guest.post(invited.guest_path + "/check/result", json=GOOD)).status == 410
    assert await stored(server) == []
    async with server.db.factory() as session:
        audited = await session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "connectivity.check")
        )
    assert audited == 0


# --- in a real browser ----------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
async def test_the_page_measures_a_round_trip_through_the_server(
    make_rooms_server: ServerFactory, chromium: Browser, db: Any, clock: Any
) -> None:
    test_server = await make_rooms_server()
    server = WebServer(test_server, db, clock)
    try:
        invited = await invite(server)
        page = await chromium.new_page()
        page.set_default_timeout(40_000)
        await page.goto(str(test_server.make_url(invited.guest_path + "/check?lang=en")))
        await page.click("#start")
        await page.wait_for_function("() => window.connectivity.state.done", polling=200)
        state = await page.evaluate("window.connectivity.state")
        print(f"measured: {state['measured']}")
        assert state["error"] is None, state
        assert state["saved"]["passed"] is True, state
        assert await page.get_attribute("#verdict", "data-passed") == "true"
        assert await page.text_content("#roundtrip") == "OK"
        [row] = await stored(server)
        assert row.fps >= 20
        assert row.bitrate_kbps >= 150
        assert (row.camera_ok, row.microphone_ok, row.screen_ok) == (True, True, True)
        assert row.rtt_ms is not None
        assert "Chrome" in row.user_agent
        cell = await guest_cell(invited.coordinator, invited.session_id, invited.guest_id)
        assert 'data-passed="true"' in cell
    finally:
        await server.close()


async def test_the_echo_socket_refuses_bad_signalling(server: WebServer) -> None:
    invited = await invite(server)
    assert (
        f'href="/sessions/{invited.session_id}/check"'
        in await (await invited.coordinator.get(f"/sessions/{invited.session_id}")).text()
    )
    async with server.browser().session.ws_connect(
        server.test_server.make_url(invited.guest_path + "/check/ws?lang=en")
    ) as ws:
        await ws.send_str("not json")
        assert await ws.receive_json() == {"type": "error", "message": "Malformed signalling message"}
        await ws.send_json({"type": "offer", "sdp": "v=0\r\nnonsense"})
        assert await ws.receive_json() == {
            "type": "error",
            "message": "The offer sends no audio or video to send back",
        }
        assert server.test_server.app[ECHOES].peers == set()
        h264 = (
            "v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 102\r\na=mid:0\r\na=sendonly\r\na=rtpmap:102 H264/90000\r\n"
        )
        await ws.send_json({"type": "offer", "sdp": h264})
        assert (await ws.receive_json())["message"].startswith("The room forwards video in VP8 only")
    assert server.test_server.app[ECHOES].peers == set()


async def test_too_many_echo_peers_at_once_are_refused() -> None:
    echoes = EchoHost(RoomConfig(), limit=1)
    first = await echoes.open()
    with pytest.raises(Conflict) as refused:
        await echoes.open()
    assert refused.value.message.en == "Too many connectivity tests are running; try again in a minute"
    await echoes.release(first)
    await echoes.release(await echoes.open())
    assert echoes.peers == set()
