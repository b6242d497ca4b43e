"""The server killed while it records: a real ``remote-check serve`` process records a call of
synthetic clients, gets SIGKILL (its media workers go with it), and a server started again on the
same data folder and database finds the part, keeps what was written up to at most 2 s before the
kill, marks the part and the session interrupted, signs the folder and renders the replay; when the
people join again the recording goes on in a second part, joined with the first in the replay."""

from __future__ import annotations

import datetime as dt
import signal
import time
from pathlib import Path
from typing import cast

import pytest
from aiohttp.test_utils import TestServer
from sqlalchemy import select

from media.internals import install_passthrough
from recordings.integrity import manifest_digest, manifest_key, verify
from recordings.models import PartState, RecordingPart, ReplayState
from recordings.paths import REPLAY_FILE, recordings_root, replay_folder
from remote_check.clock import FixedClock
from remote_check.settings import Settings
from scheduler.models import SessionStatus
from tests.conftest import Database, running_server
from tests.recordings.jobs_world import audit_of, codecs_and_duration, part_row, replay_row, session_row
from tests.recordings.media import probe
from tests.rooms.session_world import build_world, join_staff
from tests.rooms.synthetic import FPS, Changes, EncodedClip, SyntheticClient, encode_clip
from tests.serve_process import children, exited, serve
from tests.web_helpers import WebServer
from web.keys import REPLAYS

RECORD = 3.0  # seconds recorded before the kill
SURVIVES = 2.0  # what the kill may cost at most


def sent(client: SyntheticClient) -> int:
    return client.tracks["camera"]._count if "camera" in client.tracks else 0


@pytest.fixture(scope="module")
def clip() -> EncodedClip:
    return encode_clip(seconds=2.0)


async def part_of(db: Database, session_id: int) -> RecordingPart | None:
    async with db.factory() as session:
        found: RecordingPart | None = await session.scalar(
            select(RecordingPart).where(RecordingPart.session_id == session_id)
        )
        return found


@pytest.mark.parametrize(
    ("db", "media_workers"),
    [("sqlite", 0), ("postgresql", 1)],  # the room in the server process, and in a media worker
    indirect=["db"],
)
async def test_a_killed_server_leaves_a_recording_that_the_next_start_finalises(
    db: Database, clock: FixedClock, tmp_path: Path, clip: EncodedClip, media_workers: int
) -> None:
    install_passthrough()
    settings = Settings(data_dir=tmp_path / "data", database_url=db.url, media_workers=media_workers)
    settings.secret_key()  # made once, before the server reads it
    changes = Changes()
    clients: list[SyntheticClient] = []
    async with serve(settings, db.url) as server:
        world = await build_world(cast(TestServer, server), db, clock)
        try:
            await join_staff(world, ("gz.coord", "expert.on"), clip, changes, clients)
            host, expert = clients
            await host.send({"type": "moderate", "action": "record_start"})
            await changes.until(lambda: expert.roster.get("recording") is True, what="recording on")
            while await part_of(db, world.session_id) is None:  # the start reaches the database
                seen = sent(expert)
                await changes.until(lambda s=seen: sent(expert) > s, what="a frame")  # type: ignore[misc]
            mark = sent(expert)
            await changes.until(lambda: sent(expert) >= mark + RECORD * FPS, what="seconds of frames")
            workers = children(server.process.pid) if media_workers else []
            assert len(workers) == media_workers, workers

            killed_at = time.time()
            server.process.send_signal(signal.SIGKILL)
            assert await server.process.wait() == -signal.SIGKILL
            for pid in workers:
                assert await exited(pid, 15.0), f"media worker {pid} outlived the killed server"
        finally:
            for client in clients:
                await client.close()
            await world.web.close()

    part = await part_of(db, world.session_id)
    assert part is not None
    assert part.state == PartState.RECORDING  # nobody could say otherwise: the server died
    folder = recordings_root(settings) / part.folder
    cut = killed_at - part.origin_at.timestamp()  # the kill on the session clock
    for client in clients:
        for source, kind in (("camera", "video"), ("microphone", "audio")):
            found = probe(folder / f"{client.id}-{source}.mkv")
            assert found.ends[kind] >= cut - SURVIVES, (client.name, source, found.ends[kind], cut)
            assert found.ends[kind] <= cut + 1.0  # and nothing from after it (the clock is right)

    async with serve(settings, db.url):  # started again: it finalises the part before it serves
        part = await part_row(db.factory, world.session_id, part.number)
        assert part.state == PartState.INTERRUPTED
        assert part.manifest_sha256 == manifest_digest(folder)
        assert verify(folder, manifest_key(settings.secret_key())).ok
        assert (await session_row(db.factory, world.session_id)).status == SessionStatus.INTERRUPTED
        assert [e.action for e in await audit_of(db.factory, "recording.")] == [
            "recording.start",
            "recording.interrupted",
        ]
    # Stopped (its render, if begun, is cancelled): the replay is rendered by the next start, in this
    # process so that the test can wait for the renderer without polling; the call then goes on.
    rooms = {"rooms_loopback_candidates": True, "media_workers": 0}
    async with running_server(db, clock, tmp_path, **rooms) as restarted:
        renderer = restarted.test_server.app[REPLAYS]
        await renderer.idle()
        replay = await replay_row(db.factory, world.session_id)
        assert replay is not None
        assert (replay.state, replay.parts) == (ReplayState.READY, 1), replay.error
        replay_file = replay_folder(recordings_root(settings), world.session_id) / REPLAY_FILE
        codecs, duration = codecs_and_duration(replay_file)
        assert codecs == {"video": "h264", "audio": "aac"}
        assert duration == pytest.approx(replay.duration, abs=0.5)
        assert duration >= cut - SURVIVES

        await _call_goes_on(restarted, world.session_id, clip, changes, db)
        renderer.wake()  # (the stop wakes it too, maybe a moment after its row is seen)
        await renderer.idle()
        replay = await replay_row(db.factory, world.session_id)
        assert replay is not None
        assert (replay.state, replay.parts) == (ReplayState.READY, 2), replay.error
        second = await part_row(db.factory, world.session_id, 2)
        assert second.state == PartState.STOPPED
        # one clock for the whole recording
        assert abs(second.origin_at - part.origin_at) < dt.timedelta(milliseconds=1)
        _, joined = codecs_and_duration(
            replay_folder(recordings_root(settings), world.session_id) / REPLAY_FILE
        )
        assert joined == pytest.approx(replay.duration, abs=0.5)
        assert joined >= cut + 1.0  # the part after the restart comes after the kill on the timeline


async def _call_goes_on(
    server: WebServer, session_id: int, clip: EncodedClip, changes: Changes, db: Database
) -> None:
    """The host and the expert join again: the recording goes on in a new part by itself; a second
    later the host stops it, which queues the replay of both parts."""
    clients = []
    try:
        for who in ("gz.coord", "expert.on"):
            http = (await server.signed_in(who)).session
            url = str(server.test_server.make_url(f"/sessions/{session_id}/room/ws"))
            clients.append(SyntheticClient(url, who, clip, changes=changes, http=http))
            await clients[-1].join(name=False)
        host, expert = clients
        await changes.until(lambda: expert.roster.get("recording") is True, what="the recording going on")
        mark = sent(expert)
        await changes.until(lambda: sent(expert) >= mark + FPS, what="a second of frames")
        await host.send({"type": "moderate", "action": "record_stop"})
        await changes.until(lambda: expert.roster.get("recording") is False, what="recording off")
        while not await _requeued(db, session_id):  # the stop reaches the database
            seen = sent(expert)
            await changes.until(lambda s=seen: sent(expert) > s, what="a frame")  # type: ignore[misc]
    finally:
        for client in clients:
            await client.close()


async def _requeued(db: Database, session_id: int) -> bool:
    replay = await replay_row(db.factory, session_id)
    return replay is not None and (replay.state != ReplayState.READY or replay.parts == 2)
