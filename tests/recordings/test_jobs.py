"""The replay renderer of the web app, with real ffmpeg: a queued replay becomes an H.264/AAC MP4
with the marks as chapters, its progress reaches 1, and the API tells how it stands; a render that
fails ends with a message while the app goes on serving."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from recordings.integrity import manifest_digest, manifest_key, verify
from recordings.models import PartState, Replay, ReplayState
from recordings.paths import CHAPTERS_FILE, REPLAY_FILE, recordings_root, replay_folder
from recordings.service import queue_replay
from remote_check.clock import FixedClock
from remote_check.database import transaction
from remote_check.settings import Settings
from tests.conftest import Database, running_server
from tests.recordings.jobs_world import (
    RecordedSession,
    add_mark,
    add_part,
    add_session,
    audit_of,
    codecs_and_duration,
    make_clip,
    replay_row,
    vtt_cues,
)
from tests.web_helpers import WebServer
from web.keys import REPLAYS, SECRET, SETTINGS

CLIP = 3.0


@pytest.fixture
async def app_server(db: Database, clock: FixedClock, tmp_path: Path) -> AsyncIterator[WebServer]:
    async with running_server(db, clock, tmp_path) as web_server:
        yield web_server


@pytest.fixture
def progress_values() -> Iterator[list[float]]:
    """Every progress the renderer gives a replay row, in order (watched on the model, not faked)."""
    seen: list[float] = []

    def on_set(_target: Any, value: float, _old: Any, _initiator: Any) -> None:
        seen.append(value)

    event.listen(Replay.progress, "set", on_set)
    yield seen
    event.remove(Replay.progress, "set", on_set)


def root_of(server: WebServer) -> Path:
    return recordings_root(server.test_server.app[SETTINGS])


async def queue(server: WebServer, recorded: RecordedSession) -> None:
    async with transaction(server.db.factory) as session:
        await queue_replay(session, recorded.session_id, now=server.clock.now())
    server.test_server.app[REPLAYS].wake()


async def rendered(server: WebServer) -> None:
    await server.test_server.app[REPLAYS].idle()


async def status(server: WebServer, session_id: int, user: str = "gz.coord") -> tuple[int, dict[str, Any]]:
    browser = await server.signed_in(user)
    response = await browser.get(f"/api/sessions/{session_id}/replay")
    return response.status, await response.json()


async def test_a_queued_replay_renders_with_its_chapters_and_the_api_says_ready(
    app_server: WebServer, progress_values: list[float]
) -> None:
    server, factory = app_server, app_server.db.factory
    recorded = await add_session(factory, server.clock.now())
    folder = await add_part(factory, recorded, 1, PartState.STOPPED, server.clock.now())
    make_clip(root_of(server) / folder, "alice", 0.0, CLIP)
    await add_mark(factory, recorded, "R1", 0.5, 1.5, server.clock.now())
    await add_mark(factory, recorded, "F1", 2.0, None, server.clock.now())  # still shown at the end
    code, before = await status(server, recorded.session_id)
    assert (code, before["state"]) == (200, "none")

    await queue(server, recorded)
    await rendered(server)

    code, body = await status(server, recorded.session_id)
    assert code == 200
    assert body["state"] == "ready", body
    assert body["progress"] == 1.0
    assert body["parts"] == 1
    assert body["duration"] == pytest.approx(CLIP, abs=0.5)
    assert body["error"] == ""
    assert progress_values[-1] == 1.0
    assert progress_values == sorted(progress_values)  # it only rises

    out = replay_folder(root_of(server), recorded.session_id)
    codecs, duration = codecs_and_duration(out / REPLAY_FILE)
    assert codecs == {"video": "h264", "audio": "aac"}
    assert duration == pytest.approx(CLIP, abs=0.5)
    cues = vtt_cues(out / CHAPTERS_FILE)
    assert [c[0] for c in cues] == ["R1", "F1"]
    assert cues[0][1:] == pytest.approx((0.5, 1.5), abs=0.01)
    assert cues[1][1] == pytest.approx(2.0, abs=0.01)
    assert cues[1][2] == pytest.approx(body["duration"], abs=0.01)  # an open mark ends with the replay

    assert verify(out, manifest_key(server.test_server.app[SECRET])).ok
    ready = await audit_of(factory, "replay.")
    assert [(a.action, a.actor, a.city_code) for a in ready] == [("replay.ready", "system", "4401")]
    assert ready[0].details == {"manifest_sha256": manifest_digest(out)}


async def test_a_broken_file_fails_with_a_message_the_app_serves_on_and_a_new_render_succeeds(
    app_server: WebServer,
) -> None:
    server, factory = app_server, app_server.db.factory
    recorded = await add_session(factory, server.clock.now())
    folder = root_of(server) / await add_part(factory, recorded, 1, PartState.STOPPED, server.clock.now())
    folder.mkdir(parents=True)
    (folder / "alice-camera.mkv").write_bytes(b"not a recording at all" * 100)

    await queue(server, recorded)
    await rendered(server)

    code, body = await status(server, recorded.session_id)
    assert (code, body["state"]) == (200, "failed")
    assert "无法读取录制文件 alice-camera.mkv" in body["error"]
    assert "Cannot read the recording file alice-camera.mkv" in body["error"]
    assert not (replay_folder(root_of(server), recorded.session_id) / REPLAY_FILE).exists()
    failed = await audit_of(factory, "replay.")
    assert [a.action for a in failed] == ["replay.failed"]

    make_clip(folder, "alice", 0.0, 1.0)  # the file is put right: render again from the API
    browser = await server.signed_in("gz.coord")
    response = await browser.post(f"/api/sessions/{recorded.session_id}/replay", json={})
    assert response.status == 202, await response.text()
    assert (await response.json())["state"] == "queued"
    await rendered(server)
    code, body = await status(server, recorded.session_id)
    assert (body["state"], body["error"]) == ("ready", "")
    assert [a.action for a in await audit_of(factory, "replay.")] == [
        "replay.failed",
        "replay.queue",
        "replay.ready",
    ]


async def test_rendering_again_is_refused_without_a_finished_recording_and_out_of_scope(
    app_server: WebServer,
) -> None:
    server, factory = app_server, app_server.db.factory
    recorded = await add_session(factory, server.clock.now())
    coordinator = await server.signed_in("gz.coord")
    path = f"/api/sessions/{recorded.session_id}/replay"

    response = await coordinator.post(path, json={})
    assert response.status == 409
    assert "没有录制" in (await response.json())["error"]["message"]

    await add_part(factory, recorded, 1, PartState.RECORDING, server.clock.now())
    response = await coordinator.post(path + "?lang=en", json={})
    assert response.status == 409
    assert "still being recorded" in (await response.json())["error"]["message"]
    assert await replay_row(factory, recorded.session_id) is None

    code, _ = await status(server, recorded.session_id, "sz.auditor")  # another city's auditor
    assert code == 404


async def test_a_replay_queued_again_while_it_renders_is_rendered_again(app_server: WebServer) -> None:
    server, factory = app_server, app_server.db.factory
    recorded = await add_session(factory, server.clock.now())
    folder = await add_part(factory, recorded, 1, PartState.STOPPED, server.clock.now())
    make_clip(root_of(server) / folder, "alice", 0.0, 1.0)
    await queue(server, recorded)
    await queue(server, recorded)  # before the renderer has finished (or even started)
    await rendered(server)
    replay = await replay_row(factory, recorded.session_id)
    assert replay is not None
    assert replay.state == ReplayState.READY


async def test_a_render_cut_by_a_stop_of_the_server_is_done_at_the_next_start(
    db: Database, clock: FixedClock, tmp_path: Path
) -> None:
    recorded = await add_session(db.factory, clock.now())
    folder = await add_part(db.factory, recorded, 1, PartState.STOPPED, clock.now())
    async with transaction(db.factory) as session:
        replay = await queue_replay(session, recorded.session_id, now=clock.now())
        replay.state = ReplayState.RENDERING  # where the server was when it stopped
        replay.progress = 0.4
    make_clip(recordings_root(Settings(data_dir=tmp_path / "data")) / folder, "alice", 0.0, 1.0)
    async with running_server(db, clock, tmp_path) as server:
        await server.test_server.app[REPLAYS].idle()  # no wake-up: the start scans the queue
        code, body = await status(server, recorded.session_id)
    assert (code, body["state"], body["progress"]) == (200, "ready", 1.0)
