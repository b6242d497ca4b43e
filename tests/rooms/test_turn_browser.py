"""TURN end to end, in headless Chromium with a real coturn (tests/rooms/turn.py).

Browsers that may only relay (``ice_transport_policy = "relay"``) reach the room through the TURN
server, with time-limited credentials the rooms server made for each of them from the secret it
shares with coturn (``turn_secret``). Then the TURN server dies and a new one starts without the
old one's allocations: every page has lost its network path for real; each restarts ICE onto a
new allocation and the call goes on, on the same connection, without a rejoin.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page

from remote_check.clock import FixedClock
from tests.conftest import Database
from tests.rooms.conftest import ServerFactory
from tests.rooms.session_world import World, build_world
from tests.rooms.test_browser import GREW, RECEIVING, counts, stats
from tests.rooms.test_session_browser import my_id, open_room, person
from tests.rooms.turn import TurnServer

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("db", ["sqlite"], indirect=True)]

# The browser's nominated path: its local candidate (a relay candidate is the TURN allocation).
LOCAL_CANDIDATE = """async () => {
    const report = await window.rc.client.pc.getStats();
    let found = null;
    report.forEach((r) => {
        if (r.type === 'transport' && r.selectedCandidatePairId) {
            const pair = report.get(r.selectedCandidatePairId);
            const local = report.get(pair.localCandidateId);
            found = {type: local.candidateType, port: local.port};
            found.ufrag = /a=ice-ufrag:(\\S+)/.exec(window.rc.client.pc.remoteDescription.sdp)[1];
        }
    });
    return found;
}"""
# ICE was restarted (the server answered with new credentials) and the new path is a relay again.
RESTARTED = f"""async (ufrag) => ({LOCAL_CANDIDATE})().then(
    (now) => now !== null && now.type === 'relay' && now.ufrag !== ufrag)"""


@pytest.fixture
async def turn(tmp_path: Path) -> AsyncIterator[TurnServer]:
    server = TurnServer(tmp_path / "turn")
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def world(
    make_rooms_server: ServerFactory, db: Database, clock: FixedClock, turn: TurnServer
) -> AsyncIterator[World]:
    server = await make_rooms_server(
        turn_urls=[turn.url],
        turn_secret=turn.secret,
        ice_transport_policy="relay",
    )
    built = await build_world(server, db, clock)
    try:
        yield built
    finally:
        await built.web.close()


async def local_candidate(page: Page) -> dict[str, Any]:
    found: dict[str, Any] = await page.evaluate(LOCAL_CANDIDATE)
    return found


async def test_relay_only_browsers_meet_through_turn_and_survive_its_restart(
    chromium: Browser, world: World, turn: TurnServer
) -> None:
    pages: dict[str, Page] = {}
    for who in ("gz.coord", "expert.on"):
        context, path = await person(chromium, world, who)
        pages[who] = await open_room(context, world, path)
    ids = {who: await my_id(page) for who, page in pages.items()}
    relays = {}
    for who, page in pages.items():
        await page.wait_for_function(RECEIVING, arg=["video", 1, 30], polling=100)
        relays[who] = await local_candidate(page)
        assert relays[who]["type"] == "relay", "media goes through the TURN server only"

    lost = time.perf_counter()
    await turn.restart()  # the relay's allocations are gone: every page's path is dead
    print(f"TURN server restarted in {time.perf_counter() - lost:.1f} s")
    for who, page in pages.items():
        await page.wait_for_function(RESTARTED, arg=relays[who]["ufrag"], polling=200, timeout=30_000)
        print(f"{who}: on a new relay {time.perf_counter() - lost:.1f} s after the TURN server's restart")
        await page.wait_for_function(GREW, arg=["video", counts(await stats(page), "video"), 60], polling=100)
        assert await page.evaluate("window.rc.state.rejoins") == 0, "recovered by an ICE restart"
        assert await my_id(page) == ids[who]
