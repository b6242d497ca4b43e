"""A session's replay: how its render stands, and rendering it again.

The replay file joins every part of the session's recording (see :mod:`recordings.jobs`). Sessions
outside the caller's scope are answered as not found.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

from recordings import actions
from recordings.models import Replay
from remote_check.accounts.access import Permission
from scheduler.access import session_in_scope
from web.api.registry import Api, Call
from web.keys import CLOCK, REPLAYS

api = Api("replays")

REPLAY = r"/api/sessions/{id:\d+}/replay"


class ReplayStatusOut(BaseModel):
    """Where the session's replay stands: ``none`` before anything was queued, then ``queued``,
    ``rendering`` (with ``progress`` from 0 to 1), ``ready`` or ``failed`` (with ``error``)."""

    session_id: int
    state: Literal["none", "queued", "rendering", "ready", "failed"]
    progress: float = Field(ge=0, le=1)
    parts: int
    duration: float | None
    error: str
    queued_at: dt.datetime | None
    finished_at: dt.datetime | None

    @classmethod
    def of(cls, session_id: int, replay: Replay | None) -> ReplayStatusOut:
        """The status of ``replay`` (``None``: never queued)."""
        if replay is None:
            return cls(
                session_id=session_id, state="none", progress=0.0, parts=0, duration=None, error="",
                queued_at=None, finished_at=None,
            )  # fmt: skip
        return cls(
            session_id=session_id,
            state=replay.state.value,
            progress=min(max(replay.progress, 0.0), 1.0),
            parts=replay.parts,
            duration=replay.duration,
            error=replay.error,
            queued_at=replay.queued_at,
            finished_at=replay.finished_at,
        )


@api.get(REPLAY, summary="How a session's replay stands (queued, rendering with progress, ready, failed)",
         permission=Permission.SESSION_READ)  # fmt: skip
async def replay_status(call: Call) -> ReplayStatusOut:
    async with call.read() as session:
        check = await session_in_scope(session, call.user, call.path_int("id"))
        replay = await session.get(Replay, check.id)
        return ReplayStatusOut.of(check.id, replay)


@api.post(REPLAY, summary="Render a session's replay again (all parts of its recording)",
          permission=Permission.SESSION_WRITE, status=202)  # fmt: skip
async def render_again(call: Call) -> ReplayStatusOut:
    principal = call.user
    now = call.request.app[CLOCK].now()
    async with call.transaction() as session:
        check, replay = await actions.render_again(session, principal, call.path_int("id"), now=now)
        status = ReplayStatusOut.of(check.id, replay)
    call.request.app[REPLAYS].wake()  # committed: the renderer sees the row
    return status
