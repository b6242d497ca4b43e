"""What happens in the database when a room's recording starts or stops, and the replay queue.

The room (in its media worker) reports each step as a typed event (:mod:`recordings.events`:
:class:`RecordingStarted` with the part's number, folder and clock origin; :class:`RecordingStopped`
with the manifest's SHA-256); the signalling endpoint calls :func:`apply_event` in the transaction
that also writes the audit entry. Services only flush: the caller owns the transaction.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from recordings.events import RecordingEvent, RecordingStarted
from recordings.models import PartState, RecordingPart, Replay, ReplayState
from remote_check.errors import Conflict, Message


async def parts_of(session: AsyncSession, session_id: int) -> list[RecordingPart]:
    """The parts of a session's recording, in order."""
    rows = await session.scalars(
        select(RecordingPart).where(RecordingPart.session_id == session_id).order_by(RecordingPart.number)
    )
    return list(rows)


async def apply_event(
    session: AsyncSession, session_id: int, event: RecordingEvent, *, now: dt.datetime
) -> None:
    """Record a recording step reported by the room: a started part is added (refused when that
    part exists already), a stopped one is marked stopped with its manifest's digest.

    A stop with no part still recording queues the replay's render (again, when a later part
    came in after an earlier render).
    """
    if isinstance(event, RecordingStarted):
        existing = await session.scalar(
            select(RecordingPart).where(
                RecordingPart.session_id == session_id, RecordingPart.number == event.part
            )
        )
        if existing is not None:
            raise Conflict(Message("录制分段已存在", "That recording part exists already"))
        session.add(
            RecordingPart(
                session_id=session_id,
                number=event.part,
                folder=event.folder,
                origin_at=dt.datetime.fromtimestamp(event.origin, dt.UTC),
                started_at=now,
                state=PartState.RECORDING,
            )
        )
        await session.flush()
        return
    parts = await parts_of(session, session_id)
    for part in parts:
        if part.state == PartState.RECORDING and part.folder == event.folder:
            part.state = PartState.STOPPED
            part.stopped_at = now
            part.manifest_sha256 = event.manifest_sha256 or None
    await session.flush()
    if not any(p.state == PartState.RECORDING for p in parts):
        await queue_replay(session, session_id, now=now)


async def queue_replay(session: AsyncSession, session_id: int, *, now: dt.datetime) -> Replay:
    """Ask for the replay of a session to be rendered (again)."""
    replay = await session.get(Replay, session_id)
    if replay is None:
        replay = Replay(session_id=session_id, state=ReplayState.QUEUED, progress=0.0, parts=0, error="")
        replay.queued_at = now
        session.add(replay)
    else:
        replay.state = ReplayState.QUEUED
        replay.progress = 0.0
        replay.error = ""
        replay.queued_at = now
        replay.finished_at = None
    await session.flush()
    return replay
