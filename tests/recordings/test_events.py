"""The room's recording events, typed end to end: a :class:`RecordingStarted` applied by
``recordings.service`` adds the part (its origin as given, to the microsecond), a
:class:`RecordingStopped` stops it with its manifest's digest and queues the replay; and what the
signalling endpoint writes in the audit log for each kind of room event."""

from __future__ import annotations

import datetime as dt

import pytest

from media.events import AuditEvent
from recordings.events import RecordingStarted, RecordingStopped
from recordings.models import PartState, ReplayState
from recordings.paths import session_folder_name
from recordings.service import apply_event
from remote_check.clock import FixedClock
from remote_check.database import transaction
from remote_check.errors import Conflict
from tests.conftest import Database
from tests.recordings.jobs_world import add_session, part_row, replay_row
from web.rooms.admission import room_id
from web.rooms.session_views import audit_details

ORIGIN = 1586480400.25  # 2020-04-10 01:00:00.25 UTC
DIGEST = "ab" * 32


async def test_a_started_then_stopped_part_is_recorded_and_its_replay_queued(
    db: Database, clock: FixedClock
) -> None:
    recorded = await add_session(db.factory, clock.now())
    folder = f"{recorded.folder_name}/part-1"
    async with transaction(db.factory) as session:
        await apply_event(session, recorded.session_id, RecordingStarted(1, folder, ORIGIN), now=clock.now())
    part = await part_row(db.factory, recorded.session_id, 1)
    assert (part.state, part.folder, part.manifest_sha256) == (PartState.RECORDING, folder, None)
    assert part.origin_at == dt.datetime(2020, 4, 10, 1, 0, 0, 250_000, tzinfo=dt.UTC)
    assert await replay_row(db.factory, recorded.session_id) is None

    clock.advance(dt.timedelta(minutes=5))
    async with transaction(db.factory) as session:
        await apply_event(session, recorded.session_id, RecordingStopped(1, folder, DIGEST), now=clock.now())
    part = await part_row(db.factory, recorded.session_id, 1)
    assert (part.state, part.manifest_sha256, part.stopped_at) == (PartState.STOPPED, DIGEST, clock.now())
    replay = await replay_row(db.factory, recorded.session_id)
    assert replay is not None
    assert replay.state == ReplayState.QUEUED


async def test_a_part_started_twice_is_refused(db: Database, clock: FixedClock) -> None:
    recorded = await add_session(db.factory, clock.now())
    started = RecordingStarted(1, f"{recorded.folder_name}/part-1", ORIGIN)
    async with transaction(db.factory) as session:
        await apply_event(session, recorded.session_id, started, now=clock.now())
    with pytest.raises(Conflict):
        async with transaction(db.factory) as session:
            await apply_event(session, recorded.session_id, started, now=clock.now())


def test_a_sessions_room_is_named_as_its_recordings_folder() -> None:
    assert room_id(7) == session_folder_name(7) == "session-7"


def test_the_audit_details_of_each_room_event() -> None:
    folder = "session-7/part-2"
    assert audit_details(RecordingStarted(2, folder, ORIGIN)) == {"folder": folder, "part": "2"}
    assert audit_details(RecordingStopped(2, folder, DIGEST)) == {"manifest_sha256": DIGEST}
    assert audit_details(AuditEvent("room.admit", "guest:3")) == {"person": "guest:3"}
    assert audit_details(AuditEvent("recording.pause", folder)) == {"folder": folder}
    assert audit_details(AuditEvent("room.mute_all")) is None
