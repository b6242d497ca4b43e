"""The server stopped as systemd and Docker stop it: SIGTERM to its whole process group (the web
process and its media workers alike) while a room records. The web process leads the shutdown: the
call ends as if everyone had left, so the recording is finished as a host's stop finishes it (files
closed, the folder signed, ``recording.stop`` audited, the part stopped, not interrupted), and the
server exits 0 within a few seconds, without a traceback."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import cast

import pytest
from aiohttp.test_utils import TestServer

from media.internals import install_passthrough
from recordings.integrity import manifest_digest, manifest_key, verify
from recordings.models import PartState, ReplayState
from recordings.paths import recordings_root
from remote_check.clock import FixedClock
from remote_check.settings import Settings
from tests.conftest import Database, running_server
from tests.recordings.jobs_world import audit_of, part_row, replay_row
from tests.rooms.session_world import build_world, join_staff
from tests.rooms.synthetic import FPS, Changes, EncodedClip, SyntheticClient, encode_clip
from tests.serve_process import children, exited, serve
from web.keys import REPLAYS

STOPS_WITHIN = 3.0  # the target; asserted with room to spare for a loaded machine
GENEROUS = 10.0


def sent(client: SyntheticClient) -> int:
    return client.tracks["camera"]._count if "camera" in client.tracks else 0


@pytest.fixture(scope="module")
def clip() -> EncodedClip:
    return encode_clip(seconds=2.0)


@pytest.mark.parametrize(
    ("db", "media_workers"),
    [("sqlite", 0), ("postgresql", 1), ("sqlite", 2)],  # the room in the web process, in a worker
    indirect=["db"],
)
async def test_sigterm_to_the_process_group_finishes_the_recording_and_exits_cleanly(
    db: Database, clock: FixedClock, tmp_path: Path, clip: EncodedClip, media_workers: int
) -> None:
    install_passthrough()
    settings = Settings(data_dir=tmp_path / "data", database_url=db.url, media_workers=media_workers)
    settings.secret_key()  # made once, before the server reads it
    changes = Changes()
    clients: list[SyntheticClient] = []
    async with serve(settings, db.url, group=True) as server:
        world = await build_world(cast(TestServer, server), db, clock)
        try:
            await join_staff(world, ("gz.coord", "expert.on"), clip, changes, clients)
            host, expert = clients
            await host.send({"type": "moderate", "action": "record_start"})
            await changes.until(lambda: expert.roster.get("recording") is True, what="recording on")
            while not await audit_of(db.factory, "recording.start"):  # the start reaches the database
                seen = sent(expert)
                await changes.until(lambda s=seen: sent(expert) > s, what="a frame")  # type: ignore[misc]
            mark = sent(expert)
            await changes.until(lambda: sent(expert) >= mark + FPS, what="a second of frames")
            workers = children(server.process.pid) if media_workers else []
            assert len(workers) == media_workers, workers

            began = time.monotonic()
            os.killpg(server.process.pid, signal.SIGTERM)  # the whole group, as systemd and Docker do
            code = await server.process.wait()
            took = time.monotonic() - began
            for pid in workers:
                assert await exited(pid, GENEROUS), f"media worker {pid} outlived the server"
        finally:
            for client in clients:
                await client.close()
            await world.web.close()
    output = "".join(server.output)
    print(f"SIGTERM to exit: {took:.2f} s (target {STOPS_WITHIN} s; {media_workers} media workers)")
    assert code == 0, output
    assert "Traceback" not in output, output
    assert took < GENEROUS, output

    part = await part_row(db.factory, world.session_id, 1)
    assert part.state == PartState.STOPPED  # finished, as a host's stop would: not interrupted
    folder = recordings_root(settings) / part.folder
    assert verify(folder, manifest_key(settings.secret_key())).ok
    assert part.manifest_sha256 == manifest_digest(folder)
    stops = await audit_of(db.factory, "recording.stop")
    assert [(e.details or {}).get("manifest_sha256") for e in stops] == [part.manifest_sha256]


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
async def test_a_replay_being_rendered_at_sigterm_is_rendered_at_the_next_start(
    db: Database, clock: FixedClock, tmp_path: Path, clip: EncodedClip
) -> None:
    """ffmpeg is the web process's to stop: a signal to the group does not reach it, so a render
    going on while the server shuts down is not taken for a failed one; it ends, or the next start
    renders it. (An observer's page that does not answer the socket's close holds the shutdown for
    a while, as a stalled browser would: long enough for a render killed by the signal to be failed.)"""
    install_passthrough()
    settings = Settings(data_dir=tmp_path / "data", database_url=db.url, media_workers=0)
    settings.secret_key()
    changes = Changes()
    clients: list[SyntheticClient] = []
    async with serve(settings, db.url, group=True) as server:
        world = await build_world(cast(TestServer, server), db, clock)
        try:
            await join_staff(world, ("gz.coord", "expert.on"), clip, changes, clients)
            host, expert = clients
            stalled = await (await world.staff("gz.auditor")).session.ws_connect(world.room_ws())
            await host.send({"type": "moderate", "action": "record_start"})
            await changes.until(lambda: expert.roster.get("recording") is True, what="recording on")
            mark = sent(expert)
            await changes.until(lambda: sent(expert) >= mark + 4 * FPS, what="seconds of frames")
            await host.send({"type": "moderate", "action": "record_stop"})
            await changes.until(lambda: expert.roster.get("recording") is False, what="recording off")
            while (replay := await replay_row(db.factory, world.session_id)) is None or replay.progress == 0:
                assert replay is None or replay.state != ReplayState.READY, "rendered before the signal"
                seen = sent(expert)  # the call goes on: its frames tick while ffmpeg renders
                await changes.until(lambda s=seen: sent(expert) > s, what="a frame")  # type: ignore[misc]
            os.killpg(server.process.pid, signal.SIGTERM)
            code = await server.process.wait()
            await stalled.close()
        finally:
            for client in clients:
                await client.close()
            await world.web.close()
    output = "".join(server.output)
    assert code == 0, output
    assert "Traceback" not in output, output
    replay = await replay_row(db.factory, world.session_id)
    assert replay is not None
    assert replay.state in (ReplayState.RENDERING, ReplayState.READY), replay.error  # cut or done, not failed
    assert not await audit_of(db.factory, "replay.failed")

    async with running_server(db, clock, tmp_path, media_workers=0) as restarted:
        await restarted.test_server.app[REPLAYS].idle()
    replay = await replay_row(db.factory, world.session_id)
    assert replay is not None
    assert replay.state == ReplayState.READY, replay.error
