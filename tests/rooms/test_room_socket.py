"""The room's WebSocket and development page over HTTP: what is refused, and how."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from tests.rooms.conftest import ServerFactory
from tests.rooms.test_sdp import CHROME_OFFER

pytestmark = pytest.mark.parametrize("db", ["sqlite"], indirect=True)  # rooms keep no database state


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def connect(
    http: aiohttp.ClientSession, server: TestServer, room: str = "r1", lang: str = "zh"
) -> aiohttp.ClientWebSocketResponse:
    return await http.ws_connect(str(server.make_url(f"/rooms/{room}/ws?lang={lang}")))


async def exchange(ws: aiohttp.ClientWebSocketResponse, message: Any) -> dict[str, Any]:
    """Send a message; the next reply that is not a presence update."""
    if isinstance(message, str):
        await ws.send_str(message)
    else:
        await ws.send_json(message)
    while True:
        reply: dict[str, Any] = await ws.receive_json(timeout=10)
        if reply["type"] not in ("participants", "roster"):
            return reply


async def test_development_routes_are_absent_unless_enabled(
    make_rooms_server: ServerFactory, http: aiohttp.ClientSession
) -> None:
    server = await make_rooms_server(rooms_dev_routes=False)
    assert (await http.get(server.make_url("/rooms/r1/dev"))).status == 404
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await connect(http, server)
    assert refused.value.status == 404


async def test_the_development_page_says_what_it_is(
    rooms_server: TestServer, http: aiohttp.ClientSession
) -> None:
    response = await http.get(rooms_server.make_url("/rooms/audit-42/dev?lang=en"))
    html = await response.text()
    assert response.status == 200
    assert "Development page: no sign-in" in html
    assert 'data-room="audit-42"' in html
    assert (await http.get(rooms_server.make_url("/static/rooms/room.js"))).status == 200
    assert (await http.get(rooms_server.make_url("/rooms/a%20b/dev"))).status == 404
    assert (await http.get(rooms_server.make_url(f"/rooms/{'x' * 65}/dev"))).status == 404


async def test_a_cross_site_connection_is_refused(
    rooms_server: TestServer, http: aiohttp.ClientSession
) -> None:
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await http.ws_connect(str(rooms_server.make_url("/rooms/r1/ws")), origin="https://evil.example")
    assert refused.value.status == 403


async def test_bad_messages_are_refused_in_the_users_language(
    rooms_server: TestServer, http: aiohttp.ClientSession
) -> None:
    ws = await connect(http, rooms_server)
    assert await exchange(ws, "not json") == {
        "type": "error",
        "code": "invalid",
        "message": "信令消息格式错误",
        "fields": [{"field": "message"}],
    }
    assert (await exchange(ws, {"type": "offer", "sdp": CHROME_OFFER}))["message"] == "请先加入会议"
    assert (await exchange(ws, {"type": "join", "name": ""}))["fields"] == [{"field": "join.name"}]
    assert (await exchange(ws, {"type": "join", "name": "甲"}))["type"] == "joined"
    assert (await exchange(ws, {"type": "join", "name": "甲"}))["message"] == "已经加入会议"
    english = await connect(http, rooms_server, lang="en")
    reply = await exchange(english, {"type": "dance"})
    assert reply["message"] == "Malformed signalling message"


async def test_a_full_room_refuses_one_more(
    make_rooms_server: ServerFactory, http: aiohttp.ClientSession
) -> None:
    server = await make_rooms_server(max_room_size=1)
    first = await connect(http, server)
    assert (await exchange(first, {"type": "join", "name": "A"}))["type"] == "joined"
    second = await connect(http, server, lang="en")
    reply = await exchange(second, {"type": "join", "name": "B"})
    assert (reply["code"], reply["message"]) == ("room_full", "The room is full (at most 1 people)")
    other_room = await connect(http, server, room="r2")
    assert (await exchange(other_room, {"type": "join", "name": "B"}))["type"] == "joined"


async def test_the_answer_sends_on_receiving_m_lines_with_bitrate_hints(
    rooms_server: TestServer, http: aiohttp.ClientSession
) -> None:
    ws = await connect(http, rooms_server, lang="en")
    joined = await exchange(ws, {"type": "join", "name": "A"})
    assert joined["slots"] == {"audio": 0, "video": 0}
    h264 = CHROME_OFFER.replace(
        "m=video 9 UDP/TLS/RTP/SAVPF 96 97", "m=video 9 UDP/TLS/RTP/SAVPF 98 96 97", 1
    )
    h264 = h264.replace("a=rtpmap:96 VP8/90000", "a=rtpmap:98 H264/90000\r\na=rtpmap:96 VP8/90000", 1)
    refused = await exchange(ws, {"type": "offer", "sdp": h264, "tracks": {"1": "camera"}})
    assert refused["message"] == "The room forwards video in VP8 only; make it the preferred codec"
    tracks = {"0": "microphone", "1": "camera"}
    answer = await exchange(ws, {"type": "offer", "sdp": CHROME_OFFER, "tracks": tracks})
    assert answer["type"] == "answer"
    sections = answer["sdp"].split("m=")[1:]
    directions = [
        next(line for line in s.split("\r\n") if line in ("a=sendonly", "a=recvonly", "a=inactive"))
        for s in sections
    ]
    assert directions == ["a=recvonly", "a=recvonly", "a=sendonly"]
    assert answer["sdp"].count("x-google-start-bitrate=1000;x-google-min-bitrate=300") == 2
    assert "a=group:BUNDLE 0 1 2" in answer["sdp"]


async def test_the_browser_is_given_the_configured_ice_servers(
    make_rooms_server: ServerFactory, http: aiohttp.ClientSession
) -> None:
    server = await make_rooms_server(
        stun_urls=["stun:stun.example.cn:3478"],
        turn_urls=["turn:turn.example.cn:3478?transport=udp", "turns:turn.example.cn:5349"],
        turn_username="rc",
        turn_password="secret",
    )
    joined = await exchange(await connect(http, server), {"type": "join", "name": "A"})
    assert joined["rtc"]["iceTransportPolicy"] == "all"
    assert joined["rtc"]["iceServers"] == [
        {"urls": ["stun:stun.example.cn:3478"]},
        {
            "urls": ["turn:turn.example.cn:3478?transport=udp", "turns:turn.example.cn:5349"],
            "username": "rc",
            "credential": "secret",
        },
    ]
