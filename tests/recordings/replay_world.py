"""A recorded check session for the replay tests: the rows (a Dongguan project with its checklist,
a finished session, marks, a still, two parts, a ready replay) and real media made by ffmpeg
(per-person VP8/Opus Matroska files, an H.264/AAC faststart replay with a running timecode),
signed with the test server's key by :mod:`recordings.integrity`.

The media are encoded once per test run (:func:`make_media`) and copied into each test's folder.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from recordings.chapters import Mark, webvtt
from recordings.integrity import Part, build_manifest, manifest_digest, manifest_key, write_manifest
from recordings.models import ItemMark, PartState, RecordingPart, Replay, ReplayState, Still
from recordings.paths import REPLAY_FILE, REPLAY_FOLDER, recordings_root, replay_folder, session_folder
from remote_check.accounts.models import Role, User
from remote_check.audit.service import Actor, record
from remote_check.campaigns.sampling import Thresholds
from remote_check.checklist.models import ItemResult, Standard
from remote_check.checklist.service import create_items
from remote_check.database import transaction
from remote_check.programme.models import ProjectStatus
from scheduler.models import SessionStatus
from tests import factories
from tests.web_helpers import WebServer
from web.keys import SECRET, SETTINGS

FFMPEG = "/usr/bin/ffmpeg"
REPLAY_SECONDS = 12
TRACK_SECONDS = 2
# (file, kind) of each part; part 2 was cut short by a crash (interrupted).
PART_FILES: dict[int, list[tuple[str, str]]] = {
    1: [
        ("alice-camera.mkv", "video"),
        ("alice-microphone.mkv", "audio"),
        ("bob-camera.mkv", "video"),
        ("bob-screen.mkv", "video"),
    ],
    2: [("alice-camera.mkv", "video"), ("alice-microphone.mkv", "audio")],
}
PEOPLE = {"alice": "陈经理", "bob": "李工程师"}


def _ffmpeg(*args: str) -> None:
    subprocess.run([FFMPEG, "-v", "error", "-y", *args], check=True)  # noqa: S603 - fixed arguments


def make_media(folder: Path) -> Path:
    """Encode the test media into ``folder``: ``video.mkv`` (VP8), ``audio.mkv`` (Opus),
    ``replay.mp4`` (H.264/AAC, a keyframe a second, the time drawn by testsrc) and ``still.jpg``."""
    folder.mkdir(parents=True, exist_ok=True)
    _ffmpeg(
        "-f", "lavfi", "-i", f"testsrc=size=320x180:rate=15:duration={TRACK_SECONDS}",
        "-c:v", "libvpx", "-b:v", "200k", "-deadline", "realtime", "-cpu-used", "8",
        str(folder / "video.mkv"),
    )  # fmt: skip
    _ffmpeg(
        "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={TRACK_SECONDS}",
        "-c:a", "libopus", "-b:a", "32k", str(folder / "audio.mkv"),
    )  # fmt: skip
    _ffmpeg(
        "-f", "lavfi", "-i", f"testsrc=size=320x180:rate=25:duration={REPLAY_SECONDS}",
        "-f", "lavfi", "-i", f"sine=frequency=330:sample_rate=48000:duration={REPLAY_SECONDS}",
        "-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-pix_fmt", "yuv420p",
        "-c:a", "aac", "-b:a", "64k", "-movflags", "+faststart", str(folder / REPLAY_FILE),
    )  # fmt: skip
    _ffmpeg("-f", "lavfi", "-i", "testsrc=size=320x180", "-frames:v", "1", str(folder / "still.jpg"))
    return folder


@dataclass
class ReplayWorld:
    """The recorded session and who looks at it: ``auditor`` (Dongguan), ``fs_auditor`` (Foshan),
    ``admin`` (province), ``expert`` (on the panel, without the recording permission)."""

    web: WebServer
    session_id: int
    root: Path  # <data>/recordings
    codes: dict[Standard, list[str]]  # item codes by standard, in checklist order
    marks: dict[str, list[tuple[float, float]]]  # item code -> its marks' (start, end)
    still_id: int
    still_file: str  # relative to the recordings root
    part_files: dict[int, list[str]] = field(default_factory=dict)

    @property
    def folder(self) -> Path:
        """The session's recording folder."""
        return session_folder(self.root, self.session_id)

    @property
    def marked(self) -> str:
        """The item with two marks (a result, notes and a still)."""
        return self.codes[Standard.IMPLEMENTATION][0]

    def url(self, suffix: str = "") -> str:
        """An address of the replay page."""
        return f"/sessions/{self.session_id}/replay{suffix}"


def _write_part(folder: Path, number: int, media: Path, session_id: int, key: bytes, at: dt.datetime) -> None:
    folder.mkdir(parents=True)
    files = []
    for name, kind in PART_FILES[number]:
        shutil.copy(media / ("video.mkv" if kind == "video" else "audio.mkv"), folder / name)
        participant, source = name.removesuffix(".mkv").split("-")
        files.append(
            {
                "name": name,
                "participant": participant,
                "person": PEOPLE[participant],
                "source": source,
                "kind": kind,
            }
        )
    if number == 1:
        (folder / "stills").mkdir()
        shutil.copy(media / "still.jpg", folder / "stills" / "still-3.0.jpg")
    index = {"session": f"session-{session_id}", "started_at": at.isoformat(), "ended_at": at.isoformat()}
    (folder / "index.json").write_text(json.dumps({**index, "files": files}, ensure_ascii=False), "utf-8")
    part = Part(number, at, at + dt.timedelta(seconds=TRACK_SECONDS))
    manifest = build_manifest(folder, f"session-{session_id}", at, {n: part for n, _ in PART_FILES[number]})
    write_manifest(folder, manifest, key)


async def build_replay_world(web: WebServer, media: Path) -> ReplayWorld:
    """The recorded session on ``web``'s database and data folder (see the module's docstring)."""
    app = web.test_server.app
    root = recordings_root(app[SETTINGS])
    key = manifest_key(app[SECRET])
    now = web.clock.now()
    await web.add_user("admin", Role.PROVINCE_ADMIN)
    await web.add_user("auditor", Role.AUDITOR, "4419", "东莞审计员")
    await web.add_user("fs_auditor", Role.AUDITOR, "4406", "佛山审计员")
    expert_user = await web.add_user("expert", Role.EXPERT, display_name="王专家")
    async with transaction(web.db.factory) as session:
        bundle = await factories.add_supplier(session)
        project = await factories.add_project(session, bundle, city_code="4419", status=ProjectStatus.SAMPLED)
        items = await create_items(session, project, Thresholds())
        expert = await factories.add_expert(session, await session.get(User, expert_user), name="王专家")
        check = await factories.seat_on_panel(session, project, expert, at=now)
        check.status = SessionStatus.DONE
        sid = check.id
        codes = {s: [i.code for i in items if i.standard == s] for s in Standard}
        by_code = {i.code: i for i in items}
        first, finance = codes[Standard.IMPLEMENTATION][0], codes[Standard.FINANCE][0]
        by_code[first].result = ItemResult.PASS
        by_code[first].notes = "企业现场演示了系统上线与使用记录"
        by_code[first].updated_by = expert_user
        by_code[first].updated_at = now
        by_code[finance].result = ItemResult.FAIL
        by_code[finance].notes = "发票金额与合同不符"
        marks = {first: [(2.0, 5.5), (9.0, 10.5)], finance: [(6.0, 8.0)]}
        for code, ranges in marks.items():
            for start, end in ranges:
                session.add(
                    ItemMark(
                        session_id=sid,
                        item_id=by_code[code].id,
                        start=start,
                        end=end,
                        created_by=expert_user,
                        created_at=now,
                    )
                )
        still_file = f"session-{sid}/part-1/stills/still-3.0.jpg"
        still = Still(
            session_id=sid,
            item_id=by_code[first].id,
            part_number=1,
            file=still_file,
            at=3.0,
            created_by=expert_user,
            created_at=now,
        )
        session.add(still)
        for number, state in ((1, PartState.STOPPED), (2, PartState.INTERRUPTED)):
            session.add(
                RecordingPart(
                    session_id=sid,
                    number=number,
                    folder=f"session-{sid}/part-{number}",
                    origin_at=now,
                    started_at=now,
                    stopped_at=now + dt.timedelta(seconds=TRACK_SECONDS) if number == 1 else None,
                    state=state,
                )
            )
        session.add(
            Replay(
                session_id=sid,
                state=ReplayState.READY,
                progress=1.0,
                parts=2,
                duration=float(REPLAY_SECONDS),
                error="",
                queued_at=now,
                finished_at=now,
            )
        )
        await session.flush()
        still_id = still.id
        titles = {c: by_code[c].title_zh for c in marks}
    for number in PART_FILES:
        _write_part(session_folder(root, sid) / f"part-{number}", number, media, sid, key, now)
    replay = replay_folder(root, sid)
    replay.mkdir(parents=True)
    shutil.copy(media / REPLAY_FILE, replay / REPLAY_FILE)
    chapters = [Mark(c, titles[c], s, e) for c, ranges in marks.items() for s, e in ranges]
    (replay / "replay.vtt").write_text(webvtt(chapters), "utf-8")
    write_manifest(replay, build_manifest(replay, f"session-{sid}", now), key)
    await _audit_manifests(web, sid, root, now)
    return ReplayWorld(
        web,
        sid,
        root,
        codes,
        marks,
        still_id,
        still_file,
        {n: [name for name, _ in files] for n, files in PART_FILES.items()},
    )


async def _audit_manifests(web: WebServer, sid: int, root: Path, now: dt.datetime) -> None:
    """The audit entries the room, the recovery and the renderer write with each manifest's digest."""
    folder = session_folder(root, sid)
    target = f"session:{sid}"
    async with transaction(web.db.factory) as session:
        for number, end in ((1, "recording.stop"), (2, "recording.interrupted")):
            part = f"session-{sid}/part-{number}"
            digest = manifest_digest(folder / f"part-{number}")
            await record(session, Actor.system(), "recording.start", target, at=now, details={"folder": part})
            details = {"manifest_sha256": digest, **({"folder": part} if number == 2 else {})}
            await record(session, Actor.system(), end, target, at=now, details=details)
        ready = {"manifest_sha256": manifest_digest(folder / REPLAY_FOLDER)}
        await record(session, Actor.system(), "replay.ready", target, at=now, details=ready)


@pytest.fixture(scope="session")
def replay_media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The encoded test media (see :func:`make_media`), once per test run."""
    return make_media(tmp_path_factory.mktemp("replay-media"))


@pytest.fixture
async def replay_world(server: WebServer, replay_media: Path) -> ReplayWorld:
    """The recorded session on the test's server (SQLite, then PostgreSQL)."""
    return await build_replay_world(server, replay_media)
