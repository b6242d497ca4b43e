"""A check session with a recording, for the replay and recovery tests: the session (Guangzhou, its
coordinator ``gz.coord``, an auditor of Shenzhen who does not see it), two checklist items, part
folders of short clips made with ffmpeg, and reading back what the app made of them."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from recordings.models import ItemMark, PartState, RecordingPart, Replay
from recordings.paths import session_folder_name
from remote_check.accounts.models import Role
from remote_check.audit.models import AuditEntry
from remote_check.checklist.models import Standard
from remote_check.database import transaction
from scheduler.models import CheckSession
from scheduler.service import NewSession, book_session
from tests.browse_factories import add_checklist_item
from tests.recordings.media import FFMPEG, FFPROBE
from tests.scheduling_factories import add_experts, add_principal, add_project, add_supplier, local

ITEMS = [("R1", "实施真实"), ("F1", "财务规范")]


@dataclass(frozen=True)
class RecordedSession:
    """The session, the ids of its checklist items by code, and its host's user id."""

    session_id: int
    items: dict[str, int]
    host_user_id: int

    @property
    def folder_name(self) -> str:
        return session_folder_name(self.session_id)


async def add_session(factory: async_sessionmaker[AsyncSession], now: dt.datetime) -> RecordedSession:
    """A booked session of a sampled Guangzhou project with its checklist; people to ask about it."""
    async with transaction(factory) as session:
        host = await add_principal(session, "gz.coord", Role.CITY_COORDINATOR, "4401")
        await add_principal(session, "sz.auditor", Role.AUDITOR, "4403")
        project = await add_project(session, await add_supplier(session, "粤云科技"))
        items = {}
        for position, (code, title) in enumerate(ITEMS):
            item = await add_checklist_item(
                session, project, code, Standard.IMPLEMENTATION, position, title, code
            )
            items[code] = item.id
        panel = await add_experts(session, 3)
        check = await book_session(
            session,
            host,
            NewSession(project.id, local(11, 10), local(11, 11), panel, confirmed_off_hours=True),
            now=now,
        )
        return RecordedSession(check.id, items, host.user_id)


def make_clip(folder: Path, participant: str, offset: float, seconds: float) -> list[Path]:
    """``<participant>-camera.mkv`` (VP8, 320x240) and ``<participant>-microphone.mkv`` (Opus), from
    ``offset`` on the session clock, as the room writes them."""
    folder.mkdir(parents=True, exist_ok=True)
    camera, microphone = folder / f"{participant}-camera.mkv", folder / f"{participant}-microphone.mkv"
    common = ["-t", str(seconds), "-output_ts_offset", str(offset)]
    subprocess.run(  # noqa: S603 - fixed arguments
        [FFMPEG, "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", *common,
         "-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "200k", str(camera)],
        check=True,
    )  # fmt: skip
    subprocess.run(  # noqa: S603 - fixed arguments
        [FFMPEG, "-v", "error", "-y", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
         *common, "-c:a", "libopus", "-b:a", "24k", str(microphone)],
        check=True,
    )  # fmt: skip
    return [camera, microphone]


async def add_part(
    factory: async_sessionmaker[AsyncSession],
    recorded: RecordedSession,
    number: int,
    state: PartState,
    started_at: dt.datetime,
) -> str:
    """A part row of the session (its folder relative to the recordings folder)."""
    folder = f"{recorded.folder_name}/part-{number}"
    async with transaction(factory) as session:
        session.add(
            RecordingPart(
                session_id=recorded.session_id, number=number, folder=folder, origin_at=started_at,
                started_at=started_at, stopped_at=None if state == PartState.RECORDING else started_at,
                state=state,
            )
        )  # fmt: skip
    return folder


async def add_mark(
    factory: async_sessionmaker[AsyncSession],
    recorded: RecordedSession,
    code: str,
    start: float,
    end: float | None,
    now: dt.datetime,
) -> None:
    """An expert's mark of an item (made by the host here: who made it does not matter)."""
    async with transaction(factory) as session:
        session.add(
            ItemMark(
                session_id=recorded.session_id, item_id=recorded.items[code], start=start, end=end,
                created_by=recorded.host_user_id, created_at=now,
            )
        )  # fmt: skip


async def replay_row(factory: async_sessionmaker[AsyncSession], session_id: int) -> Replay | None:
    async with factory() as session:
        return await session.get(Replay, session_id)


async def part_row(factory: async_sessionmaker[AsyncSession], session_id: int, number: int) -> RecordingPart:
    async with factory() as session:
        part = await session.scalar(
            select(RecordingPart).where(
                RecordingPart.session_id == session_id, RecordingPart.number == number
            )
        )
        assert part is not None
        return part


async def session_row(factory: async_sessionmaker[AsyncSession], session_id: int) -> CheckSession:
    async with factory() as session:
        check = await session.get(CheckSession, session_id)
        assert check is not None
        return check


async def audit_of(factory: async_sessionmaker[AsyncSession], prefix: str) -> list[AuditEntry]:
    """The audit entries whose action starts with ``prefix``, oldest first."""
    async with factory() as session:
        rows = await session.scalars(
            select(AuditEntry).where(AuditEntry.action.like(f"{prefix}%")).order_by(AuditEntry.seq)
        )
        return list(rows)


def ffprobe(path: Path) -> dict[str, object]:
    """ffprobe's view of a media file: its streams and format."""
    out = subprocess.run(  # noqa: S603 - fixed arguments
        [FFPROBE, "-v", "error", "-of", "json", "-show_streams", "-show_format", str(path)],
        check=True,
        capture_output=True,
    ).stdout
    result: dict[str, object] = json.loads(out)
    return result


def codecs_and_duration(path: Path) -> tuple[dict[str, str], float]:
    """The codec of each stream type of an MP4 and its duration in seconds."""
    info = ffprobe(path)
    streams = info["streams"]
    assert isinstance(streams, list)
    codecs = {str(s["codec_type"]): str(s["codec_name"]) for s in streams}
    fmt = info["format"]
    assert isinstance(fmt, dict)
    return codecs, float(fmt["duration"])


def vtt_cues(path: Path) -> list[tuple[str, float, float]]:
    """The cues of a WebVTT chapters file: identifier, start and end in seconds."""

    def seconds(stamp: str) -> float:
        hours, minutes, rest = stamp.split(":")
        return int(hours) * 3600 + int(minutes) * 60 + float(rest)

    blocks = path.read_text("utf-8").strip().split("\n\n")[1:]
    cues = []
    for block in blocks:
        ident, times, *_ = block.splitlines()
        start, _, end = times.partition(" --> ")
        cues.append((ident, seconds(start), seconds(end)))
    return cues
