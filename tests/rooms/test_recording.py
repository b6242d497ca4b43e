"""Recording a session's room: synthetic aiortc participants send, the host records, the files
hold what was sent, the manifest verifies, and the audit log keeps the start and the stop."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer
from sqlalchemy import select

from media.internals import install_passthrough
from recordings.integrity import manifest_digest, manifest_key, verify
from recordings.models import PartState, RecordingPart, Replay
from recordings.verification import audited_digests, check_folder
from remote_check.audit.models import AuditEntry
from remote_check.clock import FixedClock
from remote_check.database import transaction
from tests.conftest import Database
from tests.recordings.media import probe
from tests.rooms.conftest import Enter, room_settings
from tests.rooms.session_world import World, build_world, join_staff
from tests.rooms.synthetic import FPS, Changes, EncodedClip, SyntheticClient
from web.app import create_app
from web.keys import SECRET, SETTINGS

pytestmark = pytest.mark.parametrize("db", ["sqlite"], indirect=True)

OPUS_PER_SECOND = 50  # 20 ms packets


def sent(client: SyntheticClient) -> dict[str, int]:
    return {source: track._count for source, track in client.tracks.items()}


async def recording_audit(db: Database) -> list[tuple[str, str, dict[str, str]]]:
    async with transaction(db.factory) as session:
        rows = (await session.scalars(select(AuditEntry).where(AuditEntry.action.like("recording.%")))).all()
        return [(r.action, r.actor, dict(r.details or {})) for r in rows]


async def test_the_host_records_two_people_and_the_files_hold_what_they_sent(
    enter: Enter, changes: Changes, world: World, db: Database
) -> None:
    host = await enter("gz.coord")
    expert = await enter("expert.on")
    await changes.until(lambda: all(n >= 15 for n in sent(host).values()), what="the host sending")
    await changes.until(lambda: all(n >= 15 for n in sent(expert).values()), what="the expert sending")
    assert host.roster["recording"] is False

    await expert.send({"type": "moderate", "action": "record_start"})
    await changes.until(lambda: bool(expert.errors), what="the expert's refusal")
    assert expert.errors[-1]["code"] == "not_host"

    unrecorded = {"host": sent(host), "expert": sent(expert)}  # sent before the start: not in the files
    await host.send({"type": "moderate", "action": "record_start"})
    await changes.until(lambda: expert.roster.get("recording") is True, what="recording on")
    notices = [m for m in expert.messages if m["type"] == "notice"]
    assert notices == [{"type": "notice", "message": "本次会议将被录制"}]
    assert expert.messages.index(notices[0]) < next(
        i for i, m in enumerate(expert.messages) if m["type"] == "roster" and m["recording"]
    )
    start = {"host": sent(host), "expert": sent(expert)}
    await changes.until(
        lambda: (
            all(n >= start["host"]["camera"] + 3 * FPS for n in [sent(host)["camera"]])
            and sent(expert)["camera"] >= start["expert"]["camera"] + 3 * FPS
        ),
        what="three seconds of frames",
    )
    end = {"host": sent(host), "expert": sent(expert)}  # sent before the stop: in the files
    await host.send({"type": "moderate", "action": "record_stop"})
    await changes.until(lambda: expert.roster.get("recording") is False, what="recording off")
    stopped = {"host": sent(host), "expert": sent(expert)}  # the stop has taken effect: nothing later

    data_dir = world.web.test_server.app[SETTINGS].data_dir
    folder = data_dir / "recordings" / f"session-{world.session_id}" / "part-1"
    index = json.loads((folder / "index.json").read_text("utf-8"))
    names = {(f["participant"], f["source"]): f["name"] for f in index["files"]}
    assert set(names) == {(c.id, s) for c in (host, expert) for s in ("camera", "microphone")}
    for who, client in (("host", host), ("expert", expert)):
        for source, kind, rate in (("camera", "video", FPS), ("microphone", "audio", OPUS_PER_SECOND)):
            path = folder / names[(client.id, source)]
            assert path.name == f"{client.id}-{source}.mkv"
            got = probe(path)
            assert got.codecs == {kind: "vp8" if kind == "video" else "opus"}
            span = got.ends[kind] - got.times[kind][0]
            # at least what was sent while the recording was surely on, at most what was sent from
            # before the start was asked for until the stop had taken effect
            least = (end[who][source] - start[who][source]) / rate
            most = (stopped[who][source] - unrecorded[who][source]) / rate
            assert least - 0.5 < span <= most + 0.1, (path.name, span, least, most)

    key = manifest_key(world.web.test_server.app[SECRET])
    report = verify(folder, key)
    assert report.ok, report
    digest = manifest_digest(folder)
    await world.web.close()
    await world.web.test_server.close()  # every handler has finished, its audit entries written
    audit = await recording_audit(db)
    assert [(a, actor) for a, actor, _ in audit] == [
        ("recording.start", "user:1"),
        ("recording.stop", "user:1"),
    ]
    assert audit[1][2] == {"manifest_sha256": digest}


async def test_pause_and_resume_keep_one_file_and_stopping_twice_is_refused(
    enter: Enter, changes: Changes, world: World
) -> None:
    host = await enter("gz.coord")
    expert = await enter("expert.on")  # what the expert receives wakes the waits up

    def forwarded() -> int:  # the host's camera frames the server had surely handled (and forwarded)
        got = expert.from_participant(host.id, "video")
        return got.frames if got is not None else 0

    await changes.until(lambda: sent(host)["camera"] >= 15, what="the host sending")
    await host.send({"type": "moderate", "action": "record_pause"})
    await changes.until(lambda: bool(host.errors), what="pausing nothing refused")
    assert host.errors[-1]["code"] == "recording_state"

    # The server records what it handles between a start taking effect and the pause taking effect. It
    # had handled at most what was sent when a change took effect, and at least what the expert had
    # received when the change was asked for (a loaded server handles frames long after they are sent).
    surely = possibly = 0
    steps = (("record_start", True), ("record_pause", False), ("record_resume", True), ("record_stop", False))
    for action, state in steps:
        asked = forwarded()
        await host.send({"type": "moderate", "action": action})
        await changes.until(lambda s=state: host.roster.get("recording") is s, what=action)  # type: ignore[misc]
        done = sent(host)["camera"]
        surely, possibly = (surely - done, possibly - asked) if state else (surely + asked, possibly + done)
        await changes.until(lambda m=done: sent(host)["camera"] >= m + FPS, what="a second of frames")  # type: ignore[misc]
    await host.send({"type": "moderate", "action": "record_stop"})
    await changes.until(lambda: len(host.errors) == 2, what="stopping twice refused")

    data_dir = world.web.test_server.app[SETTINGS].data_dir
    folder = data_dir / "recordings" / f"session-{world.session_id}" / "part-1"
    files = sorted(p.name for p in folder.glob(f"{host.id}-*.mkv"))
    assert files == [f"{host.id}-camera.mkv", f"{host.id}-microphone.mkv"]
    got = probe(folder / f"{host.id}-camera.mkv")
    times = got.times["video"]
    assert surely - FPS / 2 < len(times) <= possibly  # two recorded seconds in one file...
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert max(gaps) > 0.8  # ...with the paused second absent, on the session's clock


async def test_a_room_in_a_media_worker_records_into_the_data_folder(
    db: Database, clock: FixedClock, tmp_path: Path, clip: EncodedClip, changes: Changes
) -> None:
    install_passthrough()
    settings = room_settings(tmp_path, db, media_workers=1)
    app = create_app(settings, clock=clock)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    world = await build_world(server, db, clock)
    clients: list[SyntheticClient] = []
    try:
        await join_staff(world, ("gz.coord", "expert.on"), clip, changes, clients)
        host, expert = clients
        await host.send({"type": "moderate", "action": "record_start"})
        await changes.until(lambda: expert.roster.get("recording") is True, what="recording on")
        mark = sent(expert)["camera"]
        await changes.until(lambda: sent(expert)["camera"] >= mark + FPS, what="a second of frames")
        await host.send({"type": "moderate", "action": "record_stop"})
        await changes.until(lambda: expert.roster.get("recording") is False, what="recording off")
    finally:
        for client in clients:
            await client.close()
        await world.web.close()
        await world.web.test_server.close()  # every handler has finished, its audit entries written
    folder = settings.data_dir / "recordings" / f"session-{world.session_id}" / "part-1"
    assert verify(folder, manifest_key(settings.secret_key())).ok
    assert probe(folder / f"{expert.id}-camera.mkv").codecs == {"video": "vp8"}
    audit = await recording_audit(db)
    assert audit[-1][2] == {"manifest_sha256": manifest_digest(folder)}


async def test_a_person_who_rejoins_while_recording_goes_on_in_the_same_file(
    enter: Enter, changes: Changes, world: World
) -> None:
    host = await enter("gz.coord")
    expert = await enter("expert.on")
    unrecorded = sent(expert)["camera"]  # sent before the start is asked for
    await host.send({"type": "moderate", "action": "record_start"})
    await changes.until(lambda: expert.roster.get("recording") is True, what="recording on")
    mark = sent(expert)["camera"]
    await changes.until(lambda: sent(expert)["camera"] >= mark + FPS, what="a second from the expert")
    before = sent(expert)["camera"] - mark  # surely recorded
    again = await enter("expert.on")  # the expert's page is reopened: a new RTP timeline
    await changes.until(lambda: expert.state == "replaced", what="the old connection replaced")
    old_connection = sent(expert)["camera"] - unrecorded  # at most this much of it recorded
    assert again.id == expert.id
    await changes.until(lambda: sent(again).get("camera", 0) >= FPS, what="a second after the rejoin")
    after = sent(again)["camera"]  # surely recorded, but for the first frames before the new feed is tapped
    await host.send({"type": "moderate", "action": "record_stop"})
    await changes.until(lambda: host.roster.get("recording") is False, what="recording off")
    new_connection = sent(again)["camera"]  # the stop has taken effect: nothing later is recorded

    folder = world.web.test_server.app[SETTINGS].data_dir / "recordings" / f"session-{world.session_id}"
    got = probe(folder / "part-1" / f"{again.id}-camera.mkv")
    times = got.times["video"]
    assert times == sorted(times)
    assert before + after - FPS / 2 < len(times) <= old_connection + new_connection


async def test_a_second_part_shares_the_clock_and_the_last_leave_finishes_the_recording(
    enter: Enter, changes: Changes, world: World, db: Database
) -> None:
    host = await enter("gz.coord")
    expert = await enter("expert.on")
    await changes.until(lambda: sent(host)["camera"] >= 15, what="the host sending")
    for step in ("record_start", "record_stop", "record_start"):  # part 1, then part 2 left running
        await host.send({"type": "moderate", "action": step})
        on = step == "record_start"
        await changes.until(lambda on=on: expert.roster.get("recording") is on, what=step)  # type: ignore[misc]
        mark = sent(host)["camera"]
        await changes.until(lambda m=mark: sent(host)["camera"] >= m + FPS // 2, what="frames")  # type: ignore[misc]
    await expert.close()
    await host.close()  # the last one leaves while recording: the recording is finished
    await world.web.close()
    await world.web.test_server.close()  # every handler has finished, its audit entries written

    parts = sorted(world_parts(world))
    assert [p.name for p in parts] == ["part-1", "part-2"]
    origins = {json.loads((p / "index.json").read_text("utf-8"))["origin"] for p in parts}
    assert len(origins) == 1  # one session clock for every part
    key = manifest_key(world.web.test_server.app[SECRET])
    assert all(verify(p, key).ok for p in parts)
    async with db.factory() as session:  # each part as signed for its place, with its audited digest
        audited = await audited_digests(session, world.session_id)
    assert [check_folder(world.session_id, p, key, audited).report.findings for p in parts] == [(), ()]
    audit = await recording_audit(db)
    assert [a for a, _, _ in audit] == [
        "recording.start",
        "recording.stop",
        "recording.start",
        "recording.stop",
    ]
    async with transaction(db.factory) as session:
        rows = (await session.scalars(select(RecordingPart).order_by(RecordingPart.number))).all()
        replay = await session.get(Replay, world.session_id)
    assert [(r.number, r.state) for r in rows] == [(1, PartState.STOPPED), (2, PartState.STOPPED)]
    assert rows[1].manifest_sha256 == manifest_digest(parts[1])
    assert replay is not None  # queued for rendering when the call ended


def world_parts(world: World) -> list[Path]:
    data_dir = world.web.test_server.app[SETTINGS].data_dir
    return list((data_dir / "recordings" / f"session-{world.session_id}").glob("part-*"))
