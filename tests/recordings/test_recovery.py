"""What a server finds at start that a killed one left recording: the part is finalised as it
survived (index, signed manifest), marked interrupted with its session, and the replay rendered;
a part recorded after the restart joins it in the replay."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from recordings.events import RecordingStarted, RecordingStopped
from recordings.integrity import manifest_digest, manifest_key, verify
from recordings.models import PartState, ReplayState
from recordings.paths import REPLAY_FILE, recordings_root, replay_folder
from recordings.recovery import ensure_index
from recordings.service import apply_event
from remote_check.clock import FixedClock
from remote_check.database import transaction
from remote_check.settings import Settings
from scheduler.models import SessionStatus
from tests.conftest import Database, running_server
from tests.recordings.jobs_world import (
    add_part,
    add_session,
    audit_of,
    codecs_and_duration,
    make_clip,
    part_row,
    replay_row,
    session_row,
)
from web.keys import REPLAYS, SECRET


async def test_a_part_left_recording_is_finalised_at_start_and_its_replay_rendered(
    db: Database, clock: FixedClock, tmp_path: Path
) -> None:
    root = recordings_root(Settings(data_dir=tmp_path / "data"))
    recorded = await add_session(db.factory, clock.now())
    folder = root / await add_part(db.factory, recorded, 1, PartState.RECORDING, clock.now())
    make_clip(folder, "alice", 0.0, 2.0)  # no index: the server died before writing one

    async with running_server(db, clock, tmp_path) as server:  # starting is what recovers
        app = server.test_server.app
        part = await part_row(db.factory, recorded.session_id, 1)
        assert part.state == PartState.INTERRUPTED
        assert part.stopped_at == clock.now()
        assert part.manifest_sha256 == manifest_digest(folder)
        assert verify(folder, manifest_key(app[SECRET])).ok
        signed = json.loads((folder / "manifest.json").read_text("utf-8"))["manifest"]["files"]
        assert {f["name"]: f.get("part") for f in signed} == {
            "alice-camera.mkv": 1,
            "alice-microphone.mkv": 1,
            "index.json": None,
        }
        index = json.loads((folder / "index.json").read_text("utf-8"))
        assert index["interrupted"] is True
        assert sorted((f["participant"], f["source"], f["kind"]) for f in index["files"]) == [
            ("alice", "camera", "video"),
            ("alice", "microphone", "audio"),
        ]
        assert (await session_row(db.factory, recorded.session_id)).status == SessionStatus.INTERRUPTED
        entries = await audit_of(db.factory, "recording.")
        assert [(e.action, e.actor, e.city_code) for e in entries] == [
            ("recording.interrupted", "system", "4401")
        ]
        assert entries[0].details == {"folder": part.folder, "manifest_sha256": part.manifest_sha256}

        await app[REPLAYS].idle()  # queued by the recovery, rendered by the renderer's first scan
        replay = await replay_row(db.factory, recorded.session_id)
        assert replay is not None
        assert (replay.state, replay.parts) == (ReplayState.READY, 1)
        codecs, duration = codecs_and_duration(replay_folder(root, recorded.session_id) / REPLAY_FILE)
        assert codecs == {"video": "h264", "audio": "aac"}
        assert duration == pytest.approx(2.0, abs=0.5)

        # the call goes on after the restart: a second part on the same clock, stopped by the host
        second = root / recorded.folder_name / "part-2"
        make_clip(second, "alice", 3.0, 1.0)
        async with transaction(db.factory) as session:
            start = RecordingStarted(2, f"{recorded.folder_name}/part-2", 1586480400.0)
            await apply_event(session, recorded.session_id, start, now=clock.now())
        async with transaction(db.factory) as session:
            stop = RecordingStopped(2, f"{recorded.folder_name}/part-2", "")
            await apply_event(session, recorded.session_id, stop, now=clock.now())
        app[REPLAYS].wake()
        await app[REPLAYS].idle()
        replay = await replay_row(db.factory, recorded.session_id)
        assert replay is not None
        assert (replay.state, replay.parts) == (ReplayState.READY, 2)
        assert replay.duration == pytest.approx(4.0, abs=0.5)
        _, duration = codecs_and_duration(replay_folder(root, recorded.session_id) / REPLAY_FILE)
        assert duration == pytest.approx(4.0, abs=0.5)  # both parts on one timeline, a gap between


def test_an_index_written_before_the_crash_is_kept_and_completed(tmp_path: Path, clock: FixedClock) -> None:
    folder = tmp_path / "part-1"
    folder.mkdir()
    listed = {
        "name": "u1-camera.mkv",
        "participant": "u1",
        "person": "王工",
        "source": "camera",
        "kind": "video",
    }
    (folder / "index.json").write_text(
        json.dumps({"session": "session-1", "origin": 1.5, "ended_at": None, "files": [listed]}), "utf-8"
    )
    for name in ("u1-camera.mkv", "u2-screen.mkv", "notes.txt"):
        (folder / name).write_bytes(b"x")
    index = ensure_index(folder, "session-1", clock.now(), clock.now())
    assert index["origin"] == 1.5  # the recorder's own fields stay
    assert index["files"][0] == listed  # with the person's name it knew
    assert index["files"][1] == {
        "name": "u2-screen.mkv",
        "participant": "u2",
        "person": "",
        "source": "screen",
        "kind": "video",
    }
    assert len(index["files"]) == 2
    assert index["ended_at"] == clock.now().isoformat()
    assert json.loads((folder / "index.json").read_text("utf-8")) == index
