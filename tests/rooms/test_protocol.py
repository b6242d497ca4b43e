"""The signalling messages as models: every server message is exactly the JSON the browser reads
(``web/static/rooms/room.js``), also after the media worker's process hop, and a browser's
malformed message is refused once, at the socket, before the room sees it."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, get_args

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from pydantic import ValidationError
from pydantic_core import to_jsonable_python

from media.moderation import Recording, RoomRole
from media.protocol import (
    CLOSING,
    SERVER_MESSAGE,
    AdmittedMessage,
    AnswerMessage,
    AnyServerMessage,
    ErrorMessage,
    JoinedMessage,
    NoticeMessage,
    ParticipantInfo,
    ParticipantsMessage,
    RemovedMessage,
    ReplacedMessage,
    RosterMessage,
    RosterPerson,
    SlotCounts,
    SlotMessage,
    SlotsMessage,
    WaitingMessage,
    parse_client_message,
)
from remote_check.errors import DomainError, Message
from web.rooms.outbox import wire_text

ROOM_JS = Path(__file__).parents[2] / "web" / "static" / "rooms" / "room.js"

HOST = RosterPerson(
    id="p1",
    name="单位 张三",
    role=RoomRole.HOST,
    admitted=True,
    muted=False,
    hand_up=True,
    has_floor=False,
    sharing_screen=True,
    connected=True,
)

WIRE: list[tuple[AnyServerMessage, dict[str, Any]]] = [
    (
        JoinedMessage(
            id="p2",
            room="r1",
            rtc={
                "iceServers": [
                    {"urls": ["stun:stun.example:3478"]},
                    {
                        "urls": ["turn:turn.example:3478"],
                        "username": "1800000000:r1-p2",
                        "credential": "c2Vj",
                    },
                ],
                "iceTransportPolicy": "relay",
                "bundlePolicy": "max-bundle",
            },
            slots=SlotCounts(audio=1, video=2),
        ),
        {
            "type": "joined",
            "id": "p2",
            "room": "r1",
            "rtc": {
                "iceServers": [
                    {"urls": ["stun:stun.example:3478"]},
                    {
                        "urls": ["turn:turn.example:3478"],
                        "username": "1800000000:r1-p2",
                        "credential": "c2Vj",
                    },
                ],
                "iceTransportPolicy": "relay",
                "bundlePolicy": "max-bundle",
            },
            "slots": {"audio": 1, "video": 2},
        },
    ),
    (
        ParticipantsMessage(
            participants=[ParticipantInfo(id="p1", name="甲"), ParticipantInfo(id="p2", name="B")]
        ),
        {"type": "participants", "participants": [{"id": "p1", "name": "甲"}, {"id": "p2", "name": "B"}]},
    ),
    (AnswerMessage(sdp="v=0\r\n"), {"type": "answer", "sdp": "v=0\r\n"}),
    (SlotsMessage(audio=2, video=3), {"type": "slots", "audio": 2, "video": 3}),
    (
        SlotMessage(mid="3", participant="p1", name="甲", source="screen"),
        {"type": "slot", "mid": "3", "participant": "p1", "name": "甲", "source": "screen"},
    ),
    (SlotMessage(mid="3", participant=None), {"type": "slot", "mid": "3", "participant": None}),
    (
        ErrorMessage(code="rate_limited", message="Too many", fields=[{"field": "type", "value": "hand"}]),
        {
            "type": "error",
            "code": "rate_limited",
            "message": "Too many",
            "fields": [{"field": "type", "value": "hand"}],
        },
    ),
    (
        ErrorMessage(code="worker_failed", message="服务器故障"),
        {"type": "error", "code": "worker_failed", "message": "服务器故障", "fields": []},
    ),
    (
        RosterMessage(
            you="p1",
            people=[HOST],
            locked_mute=True,
            capacity=12,
            open_to_guests=True,
            recording=False,
            recording_state=Recording.PAUSED,
        ),
        {
            "type": "roster",
            "you": "p1",
            "people": [
                {
                    "id": "p1",
                    "name": "单位 张三",
                    "role": "host",
                    "admitted": True,
                    "muted": False,
                    "hand_up": True,
                    "has_floor": False,
                    "sharing_screen": True,
                    "connected": True,
                }
            ],
            "locked_mute": True,
            "open_to_guests": True,
            "recording": False,
            "recording_state": "paused",
            "capacity": 12,
        },
    ),
    (NoticeMessage(message="本次会议将被录制"), {"type": "notice", "message": "本次会议将被录制"}),
    (WaitingMessage(), {"type": "waiting"}),
    (AdmittedMessage(), {"type": "admitted"}),
    (RemovedMessage(message="removed"), {"type": "removed", "message": "removed"}),
    (ReplacedMessage(message="replaced"), {"type": "replaced", "message": "replaced"}),
]


@pytest.mark.parametrize(("model", "wire"), WIRE, ids=lambda v: getattr(v, "type", ""))
def test_each_server_message_is_the_json_the_browser_reads(
    model: AnyServerMessage, wire: dict[str, Any]
) -> None:
    text = wire_text(model)
    assert json.loads(text) == wire
    assert text == json.dumps(wire), "the same bytes as the dictionaries sent before the models"
    assert SERVER_MESSAGE.validate_json(text) == model
    hopped = SERVER_MESSAGE.validate_python(json.loads(json.dumps(to_jsonable_python(model))))
    assert hopped == model, "the media worker's process hop gives the same message back"
    assert wire_text(hopped) == text


def test_the_table_has_every_server_message_and_the_browser_handles_every_type() -> None:
    assert {type(model) for model, _ in WIRE} == set(get_args(AnyServerMessage))
    handled = set(re.findall(r'case "(\w+)":', ROOM_JS.read_text(encoding="utf-8")))
    assert handled == {model.type for model, _ in WIRE}
    assert CLOSING.issubset(handled), "the socket closes after these"


def test_server_messages_are_immutable_and_carry_only_their_fields() -> None:
    notice = NoticeMessage(message="a")
    with pytest.raises(ValidationError):
        notice.message = "b"  # type: ignore[misc]
    with pytest.raises(ValidationError):
        SERVER_MESSAGE.validate_python({"type": "notice", "message": "a", "extra": 1})
    with pytest.raises(ValidationError):
        SERVER_MESSAGE.validate_python({"type": "dance"})


def test_a_refusal_becomes_an_error_in_the_users_language() -> None:
    err = DomainError(Message("满了", "Full"), 409, "room_full", [{"field": "room"}])
    assert ErrorMessage.refusing(err, "en") == ErrorMessage(
        code="room_full", message="Full", fields=[{"field": "room"}]
    )
    assert ErrorMessage.refusing(err, "zh").message == "满了"


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ("not json", "message"),
        ("[1]", "message"),
        ('{"type": "dance"}', "message"),
        ('{"type": "hand", "up": "maybe"}', "hand.up"),
        ('{"type": "hand", "up": true, "extra": 1}', "hand.extra"),
        ('{"type": "offer", "sdp": "v=0", "tracks": {"0": "radio"}}', "offer.tracks.0"),
    ],
)
def test_a_malformed_client_message_is_refused_naming_what_is_wrong(raw: str, field: str) -> None:
    with pytest.raises(DomainError) as refused:
        parse_client_message(raw)
    assert (refused.value.code, refused.value.details) == ("invalid", [{"field": field}])


SQLITE_ONLY = pytest.mark.parametrize("db", ["sqlite"], indirect=True)  # rooms keep no database state


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@SQLITE_ONLY
async def test_a_malformed_message_is_refused_once_and_the_room_never_sees_it(
    rooms_server: TestServer, http: aiohttp.ClientSession
) -> None:
    ws = await http.ws_connect(str(rooms_server.make_url("/rooms/r1/ws?lang=en")))
    await ws.send_json({"type": "join", "name": "甲"})
    assert (await ws.receive_json(timeout=10))["type"] == "joined"
    await ws.send_json({"type": "hand", "up": "maybe"})
    await ws.send_json({"type": "hand", "up": True})
    seen = [await ws.receive_json(timeout=10) for _ in range(5)]
    assert [m["type"] for m in seen] == ["participants", "roster", "error", "participants", "roster"]
    assert seen[2] == {
        "type": "error",
        "code": "invalid",
        "message": "Malformed signalling message",
        "fields": [{"field": "hand.up"}],
    }
    assert [m["people"][0]["hand_up"] for m in (seen[1], seen[4])] == [False, True]
    await ws.close()
