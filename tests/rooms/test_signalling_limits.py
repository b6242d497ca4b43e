"""Rate limits and bounded sending over real WebSockets against the real server: a flood is
refused past the limits and the others see only what was allowed; a browser that never reads is
disconnected while the others keep getting every message. The rate limits run on a clock the
test moves (``web.rooms.signalling.SIGNAL_LIMITS``), so what is allowed is exact, whatever the load."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import WSCloseCode, WSMsgType

from remote_check.clock import FixedClock
from tests.conftest import Database
from tests.rooms.conftest import ServerFactory
from tests.rooms.session_world import build_world
from tests.rooms.test_rates import ManualClock
from web.rooms.rates import ABUSE, SIGNALLING_RATES

pytestmark = pytest.mark.parametrize("db", ["sqlite"], indirect=True)  # rooms keep no database state

HAND = SIGNALLING_RATES["hand"]


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def enter(
    http: aiohttp.ClientSession, url: str, name: str
) -> tuple[aiohttp.ClientWebSocketResponse, str]:
    """A socket joined to the development room under ``name``, and its participant id."""
    ws = await http.ws_connect(url)
    await ws.send_json({"type": "join", "name": name})
    while (message := await ws.receive_json(timeout=10))["type"] != "joined":
        pass
    return ws, str(message["id"])


def person(roster: dict[str, Any], name: str) -> dict[str, Any] | None:
    return next((p for p in roster["people"] if p["name"] == name), None)


class HandWatch:
    """What one participant saw of another's hand: the changes, in order, until it left."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, name: str) -> None:
        self.ws = ws
        self.name = name
        self.hands: list[bool] = []
        self.gone = False
        self._last = False

    def see(self, message: dict[str, Any]) -> None:
        """Note what a roster says of the person."""
        if message["type"] != "roster" or (seen := person(message, self.name)) is None:
            return
        if seen["hand_up"] != self._last:
            self._last = seen["hand_up"]
            self.hands.append(self._last)
        self.gone = not seen["connected"]

    async def read_until_error(self, text: str) -> list[dict[str, Any]]:
        """Read (noting rosters) until an error saying ``text``; the other errors on the way."""
        errors: list[dict[str, Any]] = []
        while True:
            message = await self.ws.receive_json(timeout=10)
            if message["type"] == "error":
                if message["message"] == text:
                    return errors
                errors.append(message)
            self.see(message)

    async def until(self, changes: int | None = None) -> None:
        """Read rosters until ``changes`` hand changes were seen, or the person left; stop
        early if more changes than that arrive."""
        while not self.gone and (changes is None or len(self.hands) < changes):
            self.see(await self.ws.receive_json(timeout=10))


async def test_a_flood_of_hands_is_refused_past_the_limit_and_the_others_see_only_what_was_allowed(
    make_rooms_server: ServerFactory, http: aiohttp.ClientSession
) -> None:
    clock = ManualClock()
    server = await make_rooms_server(rate_clock=clock)
    url = str(server.make_url("/rooms/r1/ws?lang=en"))
    flooder, _ = await enter(http, url, "Flood")
    watcher, _ = await enter(http, url, "Watch")
    watch = HandWatch(watcher, "Flood")

    own = HandWatch(flooder, "Flood")
    for n in range(4 * HAND.burst):  # four times the burst, at once
        await flooder.send_json({"type": "hand", "up": n % 2 == 0})
    await flooder.send_json({"type": "dance"})  # answered once every hand before it was handled
    errors = await own.read_until_error("Malformed signalling message")
    assert own.hands == [True, False, True, False, True]
    assert errors == [
        {
            "type": "error",
            "code": "rate_limited",
            "message": "Too many messages: refused, try again shortly",
            "fields": [{"field": "type", "value": "hand"}],
        }
    ], "a run of refusals is told once"
    clock.advance(1.0)  # a second later: per_second more are allowed again
    for n in range(int(HAND.per_second)):
        await flooder.send_json({"type": "hand", "up": n % 2 == 1})
    await flooder.send_json({"type": "dance"})
    assert await own.read_until_error("Malformed signalling message") == []
    allowed = HAND.burst + int(HAND.per_second)
    assert len(own.hands) == allowed

    for n in range(1000):  # keeps at it: disconnected
        await flooder.send_json({"type": "hand", "up": n % 2 == 0})
    closing: list[dict[str, Any]] = []
    while (frame := await flooder.receive(timeout=10)).type == WSMsgType.TEXT:
        closing.append(frame.json())
    assert (frame.type, frame.data, frame.extra) == (
        WSMsgType.CLOSE,
        WSCloseCode.POLICY_VIOLATION,
        "too many messages",
    )
    assert [m["code"] for m in closing] == ["rate_limited", "rate_limited"]
    assert closing[-1]["message"] == "Too many messages: the server closed the connection"

    await watch.until()  # until the flooder left
    assert watch.gone
    assert watch.hands == own.hands, "the others saw the allowed toggles, and nothing more"
    assert ABUSE.burst < 1000


async def test_a_participant_that_never_reads_is_disconnected_while_the_others_get_every_message(
    make_rooms_server: ServerFactory, http: aiohttp.ClientSession
) -> None:
    clock = ManualClock()
    server = await make_rooms_server(rate_clock=clock, room_send_backlog_kib=16)
    url = str(server.make_url("/rooms/r1/ws"))
    reader, _ = await enter(http, url, "Reader")
    toggler, _ = await enter(http, url, "Toggler")
    stuck = await http.ws_connect(url)  # joins, then never reads a message
    await stuck.send_json({"type": "join", "name": "Stuck"})
    while True:
        roster = await reader.receive_json(timeout=10)
        if roster["type"] == "roster" and person(roster, "Stuck") is not None:
            break

    toggles = received = 0
    gone = False
    limit = 8 * 1024 * 1024  # bytes broadcast: far more than the stuck socket and its backlog hold
    while not gone:
        assert received < limit, f"still connected after {received} bytes were broadcast"
        toggles += 1
        if toggles % HAND.burst == 0:
            clock.advance(HAND.burst / HAND.per_second)  # keep within the limit
        await toggler.send_json({"type": "hand", "up": toggles % 2 == 1})
        while True:  # the reader gets each change
            message = await reader.receive(timeout=10)
            received += len(message.data)
            roster = message.json()
            if roster["type"] != "roster":
                continue
            if (stuck_seen := person(roster, "Stuck")) is not None and not stuck_seen["connected"]:
                gone = True
            seen = person(roster, "Toggler")
            if seen is not None and seen["hand_up"] == (toggles % 2 == 1):
                break
    # the server closed the stuck one's connection: what it holds ends in a close or an error
    while (frame := await stuck.receive(timeout=10)).type == WSMsgType.TEXT:
        pass
    assert frame.type in (WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.ERROR)
    # and the room goes on for the others
    clock.advance(HAND.burst / HAND.per_second)
    await toggler.send_json({"type": "hand", "up": toggles % 2 == 0})
    while (roster := await reader.receive_json(timeout=10))["type"] != "roster":
        pass
    assert person(roster, "Toggler") is not None


async def test_a_guest_who_reconnects_too_often_is_refused(
    make_rooms_server: ServerFactory, db: Database, clock: FixedClock
) -> None:
    rates = ManualClock()
    server = await make_rooms_server(rate_clock=rates)
    world = await build_world(server, db, clock)
    try:
        visitor = world.web.browser()
        url = world.guest_ws(world.tokens["enterprise"], "en")
        sockets = []
        for _ in range(SIGNALLING_RATES["join"].burst):  # each one replaces the one before
            sockets.append(await visitor.session.ws_connect(url))
            assert await sockets[-1].receive_json(timeout=10) == {"type": "waiting"}
        refused = await visitor.session.ws_connect(url)
        message = await refused.receive_json(timeout=10)
        assert (message["code"], message["message"]) == (
            "rate_limited",
            "Connecting too often: try again in a little while",
        )
        frame = await refused.receive(timeout=10)
        assert (frame.type, frame.data) == (WSMsgType.CLOSE, WSCloseCode.POLICY_VIOLATION)
        rates.advance(1 / SIGNALLING_RATES["join"].per_second)  # one more, a while later
        again = await visitor.session.ws_connect(url)
        assert await again.receive_json(timeout=10) == {"type": "waiting"}
    finally:
        await world.web.close()
