"""The worker hop, call by call: every :class:`~media.host.RoomHost` method of a WorkerRoomHost
crosses to a real media worker process as its typed request and comes back as its typed result
(events as :mod:`media.events` and :mod:`recordings.events` dataclasses, refusals as DomainErrors);
what the room gives a participant's sink arrives before the call that caused it returns."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer

from media.config import RoomConfig
from media.events import AuditEvent
from media.host import LocalRoomHost, RoomHost, RoomSummary
from media.protocol import HandMessage, ModerateMessage, OfferMessage, SelfMuteMessage, ServerMessage
from media.room import RecordingTime
from media.workers import WorkerRoomHost
from recordings.events import RecordingStarted, RecordingStopped
from recordings.integrity import manifest_digest, manifest_key, verify
from remote_check.clock import FixedClock
from remote_check.errors import DomainError
from remote_check.settings import Settings
from tests.conftest import Database
from tests.rooms.conftest import room_settings
from web.app import create_app
from web.keys import ROOMS

pytestmark = pytest.mark.parametrize("db", ["sqlite"], indirect=True)  # rooms keep no database state

CHROME_OFFER = (Path(__file__).parent / "chrome_offer.sdp").read_text().replace("\n", "\r\n")
ROOM = "session-7"


@pytest.fixture
def settings(db: Database, tmp_path: Path) -> Settings:
    return room_settings(tmp_path, db, media_workers=1)


@pytest.fixture
async def workers(settings: Settings) -> AsyncIterator[WorkerRoomHost]:
    host = WorkerRoomHost(settings, 1)
    try:
        yield host
    finally:
        await host.close()


def alive(pid: int) -> bool:
    """Whether a process of that id exists (a reaped child does not)."""
    return Path(f"/proc/{pid}").exists()


def moderate(action: str, target: str = "") -> ModerateMessage:
    return ModerateMessage.model_validate({"type": "moderate", "action": action, "target": target})


async def test_every_call_crosses_to_the_worker_and_back_typed(
    workers: WorkerRoomHost, settings: Settings
) -> None:
    host: RoomHost = workers  # mypy: the worker host is a RoomHost
    told: list[ServerMessage] = []
    connection = await host.join(ROOM, "user:1", "主持人", "host", "zh", told.append)
    assert isinstance(connection, str)
    assert [m.type for m in told][:1] == ["joined"], "sink messages arrive before the join returns"
    assert workers.pids()[0] == workers.worker_pid(ROOM)

    told.clear()
    await host.signal(ROOM, connection, OfferMessage(type="offer", sdp=CHROME_OFFER))
    assert "answer" in [m.type for m in told]

    assert await host.command(ROOM, connection, SelfMuteMessage(type="self_mute", muted=True)) is None
    assert await host.command(ROOM, connection, HandMessage(type="hand", up=True)) is None
    assert await host.command(ROOM, connection, moderate("mute_all")) == AuditEvent("room.mute_all")

    started = await host.command(ROOM, connection, moderate("record_start"))
    assert isinstance(started, RecordingStarted)
    assert (started.part, started.folder) == (1, f"{ROOM}/part-1")
    assert isinstance(started.origin, float)
    assert await host.continue_recording(ROOM) is None, "recording already"
    timed = await host.recording_time(ROOM)
    assert isinstance(timed, RecordingTime)
    assert timed.part == 1
    assert timed.seconds >= 0
    with pytest.raises(DomainError) as refused:
        await host.take_still(ROOM)
    assert (refused.value.status, refused.value.code) == (409, "no_screen")
    assert "没有人在共享屏幕" in refused.value.message.zh
    paused = await host.command(ROOM, connection, moderate("record_pause"))
    assert paused == AuditEvent("recording.pause", started.folder)
    resumed = await host.command(ROOM, connection, moderate("record_resume"))
    assert resumed == AuditEvent("recording.resume", started.folder)

    assert await workers.summary() == [[RoomSummary(ROOM, participants=1, published=0, forwarding=0)]]

    stopped = await host.leave(ROOM, connection)  # the last one out: the recording stops
    assert isinstance(stopped, RecordingStopped)
    folder = settings.data_dir / "recordings" / started.folder
    assert stopped == RecordingStopped(1, started.folder, manifest_digest(folder))
    assert verify(folder, manifest_key(settings.secret_key())).ok
    assert workers.router.worker_of(ROOM) is None, "the room is forgotten with its last connection"
    assert await host.leave(ROOM, connection) is None, "leaving twice is a no-op"
    assert await workers.summary() == [[]]

    with pytest.raises(DomainError) as no_call:
        await host.recording_time(ROOM)
    assert no_call.value.code == "no_call"
    pids = set(workers.pids().values())
    await host.close()
    assert workers.pids() == {}
    assert not any(alive(pid) for pid in pids)


async def test_a_command_refused_in_the_worker_is_a_domain_error_here(workers: WorkerRoomHost) -> None:
    told: list[ServerMessage] = []
    host_connection = await workers.join(ROOM, "user:1", "主持人", "host", "en", told.append)
    expert = await workers.join(ROOM, "user:2", "专家", "expert", "en", told.append)
    with pytest.raises(DomainError) as refused:
        await workers.command(ROOM, expert, moderate("record_start"))
    assert refused.value.status == 403
    assert await workers.command(ROOM, host_connection, moderate("remove", "p2")) == AuditEvent(
        "room.remove", "user:2"
    )
    assert "removed" in [m.type for m in told]
    assert await workers.leave(ROOM, host_connection) is None, "not recording: no event"


def test_the_local_host_is_a_room_host_too(settings: Settings) -> None:
    host: RoomHost = LocalRoomHost(RoomConfig.from_settings(settings))  # mypy checks the protocol
    assert isinstance(host, LocalRoomHost)


async def test_the_apps_room_host_is_made_when_it_starts_and_closed_when_it_stops(
    settings: Settings, clock: FixedClock
) -> None:
    app = create_app(settings, clock=clock)
    assert ROOMS not in app, "made by the app's cleanup context, not when the routes are set up"
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        host = app[ROOMS]
        assert isinstance(host, WorkerRoomHost)
        await host.join(ROOM, "user:1", "主持人", "host", "zh", lambda _message: None)
        pids = set(host.pids().values())
        assert len(pids) == 1
    finally:
        await server.close()
    assert host.pids() == {}
    assert not any(alive(pid) for pid in pids)
