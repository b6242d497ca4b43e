"""Experts mark checklist items and take stills during a recorded call; the server stamps marks on
the recording's clock, so a mark made when something is shown lands there in the replay file."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import av
import pytest
from sqlalchemy import select

from media.internals import install_passthrough
from recordings.integrity import manifest_key, verify
from recordings.layout import plan
from recordings.models import PartState, RecordingPart
from recordings.render import render_parts
from remote_check.audit.models import AuditEntry
from remote_check.campaigns.sampling import Thresholds
from remote_check.checklist.service import create_items
from remote_check.database import transaction
from remote_check.programme.models import VoucherProject
from scheduler.models import CheckSession
from tests.conftest import Database
from tests.rooms.session_world import World
from tests.rooms.synthetic import Changes, EncodedClip, ScreenSharer, SyntheticClient, encode_clip
from tests.web_helpers import Browser
from web.keys import SECRET, SETTINGS

pytestmark = pytest.mark.parametrize("db", ["sqlite"], indirect=True)

SCREEN = (640, 360)


@dataclass
class Call:
    host: SyntheticClient
    expert: ScreenSharer
    items: list[str]


@pytest.fixture(scope="module")
def screens() -> tuple[list[bytes], list[bytes]]:
    """The expert's screen share: a test pattern, then (when switched) a plain white picture."""
    pattern = encode_clip(2.0, *SCREEN, kbps=600).video
    white = encode_clip(1.0, *SCREEN, kbps=300, pattern="color=c=white").video
    return pattern, white


@pytest.fixture
async def call(
    world: World, db: Database, clip: EncodedClip, changes: Changes, screens: tuple[list[bytes], list[bytes]]
) -> AsyncIterator[Call]:
    install_passthrough()
    async with transaction(db.factory) as session:
        check = await session.get(CheckSession, world.session_id)
        assert check is not None
        project = await session.get(VoucherProject, check.project_id)
        assert project is not None
        items = [i.code for i in await create_items(session, project, Thresholds())]
    host = SyntheticClient(
        world.room_ws(), "host", clip, changes=changes, http=(await world.staff("gz.coord")).session
    )
    expert_http = (await world.staff("expert.on")).session
    expert = ScreenSharer(world.room_ws(), "expert", clip, screens[0], changes, http=expert_http)
    await host.join(name=False)
    await expert.join(name=False)
    await changes.until(lambda: expert.screen._count >= 10, what="the screen share flowing")
    try:
        yield Call(host, expert, items)
    finally:
        await expert.close()
        await host.close()


async def post(world: World, who: str, path: str, body: dict[str, object]) -> tuple[int, dict[str, object]]:
    return await send(await world.staff(who), path, body)


async def send(browser: Browser, path: str, body: dict[str, object]) -> tuple[int, dict[str, object]]:
    response = await browser.post(path, json=body, headers={"Accept-Language": "zh-CN"})
    return response.status, await response.json()


async def record(call: Call, changes: Changes, on: bool) -> None:
    await call.host.send({"type": "moderate", "action": "record_start" if on else "record_stop"})
    await changes.until(lambda: call.expert.roster.get("recording") is on, what=f"recording {on}")


def mean_luma(frame: av.VideoFrame, x: int, y: int, width: int, height: int) -> float:
    """The mean brightness (0-255) of a region of ``frame`` (every 4th row)."""
    plane = frame.reformat(format="gray").planes[0]
    data, stride = bytes(plane), plane.line_size
    rows = range(y, y + height, 4)
    return sum(sum(data[r * stride + x : r * stride + x + width]) for r in rows) / (len(rows) * width)


def white_from(replay: Path) -> float:
    """When the screen's box of the replay first turns white (seconds)."""
    box = plan(2, screen=True).screen
    assert box is not None
    with av.open(str(replay)) as container:
        for frame in container.decode(video=0):
            if mean_luma(frame, box.x + 20, box.y + 20, box.width - 40, box.height - 40) > 235:
                assert frame.time is not None
                return float(frame.time)
    raise AssertionError("the screen never turned white in the replay")


async def test_a_mark_made_when_an_item_is_shown_lands_there_in_the_replay(
    world: World, db: Database, call: Call, changes: Changes, screens: tuple[list[bytes], list[bytes]]
) -> None:
    marks = f"/api/sessions/{world.session_id}/marks"
    item = call.items[-1]  # a declared module (M...)
    status, body = await post(world, "expert.on", marks, {"item": item, "edge": "start"})
    assert status == 409
    assert body["error"]["message"] == "当前未在录制"  # type: ignore[index]

    await record(call, changes, True)
    shown_at = call.expert.screen._count + 8
    await changes.until(lambda: call.expert.screen._count >= shown_at, what="half a second of the pattern")
    expert = await world.staff("expert.on")  # signed in beforehand: the mark follows the switch at once
    # the enterprise shows the item (the screen turns white) and the expert marks it at once
    call.expert.screen.frames, call.expert.screen._index = screens[1], 0
    status, started = await send(expert, marks, {"item": item, "edge": "start"})
    assert status == 200, started
    status, again = await post(world, "expert.on", marks, {"item": item, "edge": "start"})
    assert status == 409, again
    status, taken = await post(world, "expert.on", f"/api/sessions/{world.session_id}/stills", {"item": item})
    assert status == 200, taken
    later = call.expert.screen._count + 10
    await changes.until(lambda: call.expert.screen._count >= later, what="the item shown for a while")
    status, ended = await post(world, "expert.on", marks, {"item": item, "edge": "end"})
    assert status == 200, ended
    assert float(ended["end"]) > float(started["start"])  # type: ignore[arg-type]
    await record(call, changes, False)

    recordings = world.web.test_server.app[SETTINGS].data_dir / "recordings"
    part = recordings / f"session-{world.session_id}" / "part-1"
    still = recordings / str(taken["file"]) if "file" in taken else None
    assert still is None  # the API does not hand out paths
    stills = list((part / "stills").glob("*.jpg"))
    assert len(stills) == 1
    assert stills[0].read_bytes()[:3] == b"\xff\xd8\xff"
    with av.open(str(stills[0])) as picture:
        frame = next(picture.decode(video=0))
        assert (frame.width, frame.height) == SCREEN
        assert mean_luma(frame, 0, 0, *SCREEN) > 235  # the white screen, as shown
    report = verify(part, manifest_key(world.web.test_server.app[SECRET]))
    assert report.ok, report  # the still is covered by the manifest

    replay = await render_parts([part], part.parent / "replay.mp4")
    white = await asyncio.to_thread(white_from, replay)
    print(f"screen turned white at {white:.3f} s in the replay; the mark says {started['start']} s")
    assert abs(white - float(started["start"])) <= 0.2, (white, started)  # type: ignore[arg-type]

    async with transaction(db.factory) as session:
        parts = (await session.scalars(select(RecordingPart))).all()
        actions = (
            await session.scalars(
                select(AuditEntry.action).where(AuditEntry.action.like("mark.%")).order_by(AuditEntry.seq)
            )
        ).all()
    assert [(p.number, p.state) for p in parts] == [(1, PartState.STOPPED)]
    assert list(actions) == ["mark.start", "mark.end"]


async def test_only_the_panel_marks_and_only_while_recording(
    world: World, call: Call, changes: Changes
) -> None:
    marks = f"/api/sessions/{world.session_id}/marks"
    item = call.items[0]
    await record(call, changes, True)
    status, _ = await post(world, "expert.off", marks, {"item": item, "edge": "start"})
    assert status == 404  # an expert off the panel does not see the session at all
    status, _ = await post(world, "gz.auditor", marks, {"item": item, "edge": "start"})
    assert status == 403  # auditors watch, they do not mark
    status, body = await post(world, "expert.on", marks, {"item": item, "edge": "end"})
    assert status == 409
    assert "尚未开始" in str(body)
    status, body = await post(world, "expert.on", marks, {"item": "Z99", "edge": "start"})
    assert status == 404
    listing = await (await world.staff("gz.auditor")).get(marks)
    assert listing.status == 200
    assert (await listing.json())["marks"] == []
