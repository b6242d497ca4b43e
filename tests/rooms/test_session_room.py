"""The room of a check session: who enters as what, and refusals, over the real WebSocket."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from sqlalchemy import select

from remote_check.accounts.models import Role
from remote_check.audit.models import AuditEntry
from remote_check.clock import FixedClock
from remote_check.database import transaction
from scheduler.guests import NewGuest, add_guest, link_for
from scheduler.models import GuestKind
from scheduler.service import cancel_session
from tests.conftest import Database
from tests.rooms.conftest import ServerFactory
from tests.rooms.session_world import World, build_world
from tests.scheduling_factories import add_principal, local
from web.keys import SECRET


async def first(ws: aiohttp.ClientWebSocketResponse, *types: str) -> dict[str, Any]:
    """The first message of one of ``types``."""
    while True:
        message: dict[str, Any] = await ws.receive_json(timeout=10)
        if message["type"] in types:
            return message


async def me_in_roster(ws: aiohttp.ClientWebSocketResponse) -> dict[str, Any]:
    roster = await first(ws, "roster")
    return next(p for p in roster["people"] if p["id"] == roster["you"])


async def refused_status(session: aiohttp.ClientSession, url: str, **kw: Any) -> int:
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await session.ws_connect(url, **kw)
    return refused.value.status


async def audit_actions(db: Database) -> list[tuple[str, str, str]]:
    async with transaction(db.factory) as session:
        rows = (await session.scalars(select(AuditEntry).where(AuditEntry.action.like("room.%")))).all()
        return [(r.action, r.actor, (r.details or {}).get("person", "")) for r in rows]


async def test_staff_enter_as_host_expert_or_observer_and_others_are_refused(world: World) -> None:
    expected = {
        "gz.coord": ("host", "gz.coord"),
        "admin": ("host", "admin"),
        "expert.on": ("expert", "expert.on"),
        "gz.auditor": ("observer", "gz.auditor"),
    }
    for username, (role, name) in expected.items():
        browser = await world.staff(username)
        ws = await browser.session.ws_connect(world.room_ws())
        me = await me_in_roster(ws)
        assert (me["role"], me["name"], me["admitted"], me["connected"]) == (role, name, True, True)
        await ws.close()
    # another city's coordinator and alliance staff (not a cluster project) do not see the session
    for username in ("sz.coord", "alliance", "expert.off"):
        browser = await world.staff(username)
        assert await refused_status(browser.session, world.room_ws()) == 404, username
        assert (await browser.get(f"/sessions/{world.session_id}/room")).status == 404
    alliance = await world.staff("alliance")
    ws = await alliance.session.ws_connect(world.room_ws(world.cluster_session_id))
    assert (await me_in_roster(ws))["role"] == "observer"
    await ws.close()
    anonymous = world.web.browser()
    assert await refused_status(anonymous.session, world.room_ws()) != 101
    assert (await anonymous.get(f"/sessions/{world.session_id}/room")).status in (303, 401)
    host = await world.staff("gz.coord")
    assert await refused_status(host.session, world.room_ws(), origin="https://evil.example") == 403
    page = await host.get(f"/sessions/{world.session_id}/room")
    html = await page.text()
    assert page.status == 200
    assert "未录制" in html
    assert f'data-socket="/sessions/{world.session_id}/room/ws"' in html


async def test_every_guest_waits_for_the_host_observers_too(world: World) -> None:
    host = await (await world.staff("gz.coord")).session.ws_connect(world.room_ws())
    await me_in_roster(host)
    visitor = world.web.browser()
    guests = []
    for kind in ("enterprise", "supplier", "observer"):
        guests.append(await visitor.session.ws_connect(world.guest_ws(world.tokens[kind])))
        assert await guests[-1].receive_json(timeout=10) == {"type": "waiting"}, kind
    waiting: dict[str, Any] = {}
    while len(waiting) < 3:
        roster = await first(host, "roster")
        waiting = {p["role"]: p for p in roster["people"] if not p["admitted"]}
    assert waiting["observer"]["name"] == "省审计厅·林"
    assert waiting["enterprise"]["name"].endswith("·陈经理")
    assert roster["open_to_guests"] is False
    auditor = await (await world.staff("gz.auditor")).session.ws_connect(world.room_ws())
    assert (await me_in_roster(auditor))["admitted"] is True, "staff observers enter directly"
    page = await visitor.get(f"/join/{world.tokens['supplier']}/room")
    assert page.status == 200
    assert "·李工" in await page.text()
    landing = await visitor.get(f"/join/{world.tokens['supplier']}")
    assert "进入会议室" in await landing.text()


async def test_the_host_opens_the_room_to_guests_and_closes_it_again(
    make_rooms_server: ServerFactory, db: Database, clock: FixedClock
) -> None:
    server = await make_rooms_server()
    world = await build_world(server, db, clock)
    try:
        host_browser = await world.staff("gz.coord")
        host = await host_browser.session.ws_connect(world.room_ws())
        await me_in_roster(host)
        expert = await (await world.staff("expert.on")).session.ws_connect(world.room_ws())
        await me_in_roster(expert)
        visitor = world.web.browser()
        observer = await visitor.session.ws_connect(world.guest_ws(world.tokens["observer"]))
        assert await observer.receive_json(timeout=10) == {"type": "waiting"}
        await expert.send_json({"type": "moderate", "action": "open_to_guests"})
        assert (await first(expert, "error"))["code"] == "not_host"
        await host.send_json({"type": "moderate", "action": "open_to_guests"})
        assert (await observer.receive_json(timeout=10))["type"] == "admitted"
        assert (await observer.receive_json(timeout=10))["type"] == "joined"
        roster = await first(host, "roster")
        while not roster["open_to_guests"]:
            roster = await first(host, "roster")
        enterprise = await visitor.session.ws_connect(world.guest_ws(world.tokens["enterprise"]))
        assert (await enterprise.receive_json(timeout=10))["type"] == "joined", "no waiting while open"
        await host.send_json({"type": "moderate", "action": "close_to_guests"})
        while (await first(host, "roster"))["open_to_guests"]:
            pass
        supplier = await visitor.session.ws_connect(world.guest_ws(world.tokens["supplier"]))
        assert await supplier.receive_json(timeout=10) == {"type": "waiting"}
        host_page = await (await host_browser.get(f"/sessions/{world.session_id}/room?lang=en")).text()
        assert 'id="open-to-guests"' in host_page
        assert "Let guests in without waiting" in host_page
        guest_page = await (await visitor.get(f"/join/{world.tokens['observer']}/room")).text()
        assert 'id="open-to-guests"' not in guest_page
        await world.web.close()
        await server.close()  # every handler has finished, its audit entries written
        actions = [action for action, _, _ in await audit_actions(db)]
        assert [a for a in actions if a.endswith("_to_guests")] == [
            "room.open_to_guests",
            "room.close_to_guests",
        ]
    finally:
        await world.web.close()


async def test_refused_links_are_refused_with_the_landing_pages_messages(world: World, db: Database) -> None:
    visitor = world.web.browser()
    token = world.tokens["enterprise"]
    guest_id = world.guest_ids["enterprise"]
    altered = token.replace(f"{guest_id}.", f"{guest_id + 1}.", 1)
    assert await refused_status(visitor.session, world.guest_ws(altered)) == 403
    page = await visitor.get(f"/join/{altered}/room")
    assert page.status == 403
    assert "改动" in await page.text()
    world.web.clock.set(local(11, 13))  # the session ends at 11:00; links last two more hours
    assert await refused_status(visitor.session, world.guest_ws(token)) == 410
    expired = await visitor.get(f"/join/{token}/room?lang=en")
    assert expired.status == 410
    assert "expired" in await expired.text()
    world.web.clock.set(local(10, 12))
    host = await world.staff("gz.coord")
    revoked = await host.post(f"/api/sessions/{world.session_id}/guests/{guest_id}/revoke")
    assert revoked.status == 200
    assert await refused_status(visitor.session, world.guest_ws(token)) == 410
    async with transaction(db.factory) as session:
        coordinator = await add_principal(session, "gz.coord2", Role.CITY_COORDINATOR, "4401")
        await cancel_session(session, coordinator, world.session_id, now=world.web.clock.now())
    cancelled = await visitor.get(f"/join/{world.tokens['observer']}/room")
    assert cancelled.status == 410
    assert "取消" in await cancelled.text()
    assert await refused_status(visitor.session, world.guest_ws(world.tokens["observer"])) == 410
    assert await refused_status(host.session, world.room_ws()) == 410


async def test_one_connection_per_person_and_a_full_room(
    make_rooms_server: ServerFactory, db: Database, clock: FixedClock
) -> None:
    server = await make_rooms_server(max_room_size=3)
    world = await build_world(server, db, clock)
    try:
        host = await world.staff("gz.coord")
        first_tab = await host.session.ws_connect(world.room_ws())
        await me_in_roster(first_tab)
        second_tab = await host.session.ws_connect(world.room_ws())
        replaced = await first(first_tab, "replaced")
        assert "另一个窗口" in replaced["message"]
        assert (await first_tab.receive(timeout=10)).type in (
            aiohttp.WSMsgType.CLOSE,
            aiohttp.WSMsgType.CLOSED,
        )
        roster = await first(second_tab, "roster")
        assert [p["role"] for p in roster["people"]] == ["host"]
        expert = await (await world.staff("expert.on")).session.ws_connect(world.room_ws())
        await me_in_roster(expert)
        guest = await world.web.browser().session.ws_connect(world.guest_ws(world.tokens["enterprise"], "en"))
        assert (await guest.receive_json(timeout=10))["type"] == "waiting"  # a waiting guest counts
        fourth = await world.web.browser().session.ws_connect(world.guest_ws(world.tokens["observer"], "en"))
        refusal = await fourth.receive_json(timeout=10)
        assert (refusal["type"], refusal["code"]) == ("error", "room_full")
        assert refusal["message"] == "The room is full (at most 3 people)"
        assert (await fourth.receive(timeout=10)).type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
        await world.web.close()
        await server.close()  # every handler has finished, its audit entries written
        actions = [action for action, _, _ in await audit_actions(db)]
        assert actions.count("room.join") == 4  # the two tabs, the expert, the waiting guest
        assert actions.count("room.leave") == 4
    finally:
        await world.web.close()


async def test_the_thirteenth_person_is_refused(world: World, db: Database) -> None:
    async with transaction(db.factory) as session:
        coordinator = await add_principal(session, "gz.coord3", Role.CITY_COORDINATOR, "4401")
        tokens = [
            link_for(guest, check, world.web.test_server.app[SECRET], 2).href.removeprefix("/join/")
            for guest, check in [
                await add_guest(
                    session,
                    coordinator,
                    world.session_id,
                    NewGuest(GuestKind.OBSERVER, f"观察员{i}", "省厅"),
                    now=world.web.clock.now(),
                )
                for i in range(6)
            ]
        ]
    sockets = []
    for username in ("gz.coord", "admin", "gz.auditor", "expert.on"):
        sockets.append(await (await world.staff(username)).session.ws_connect(world.room_ws()))
    visitor = world.web.browser()
    for token in [*world.tokens.values(), *tokens[:5]]:
        sockets.append(await visitor.session.ws_connect(world.guest_ws(token)))
    for ws in sockets:
        assert (await first(ws, "roster", "waiting"))["type"] in ("roster", "waiting")
    assert len(sockets) == 12
    thirteenth = await visitor.session.ws_connect(world.guest_ws(tokens[5]))
    refusal = await thirteenth.receive_json(timeout=10)
    assert (refusal["code"], refusal["message"]) == ("room_full", "会议室已满（最多 12 人）")
    await sockets[-1].close()  # someone (waiting) leaves: there is room again
    present = 0
    while present != 12:
        present = sum(p["connected"] for p in (await first(sockets[0], "roster"))["people"])
    while present != 11:
        present = sum(p["connected"] for p in (await first(sockets[0], "roster"))["people"])
    again = await visitor.session.ws_connect(world.guest_ws(tokens[5]))
    assert await again.receive_json(timeout=10) == {"type": "waiting"}  # let in, to wait for the host
