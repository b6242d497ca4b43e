"""What people do with a session's recording: mark an item, keep a still, render the replay again,
read it (view, download, verify). Each is checked (scope, panel, state) and audited in the
caller's transaction; the times come from the room, never from the browser (the caller asks the
room first, outside the transaction).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from recordings import marks
from recordings.models import ItemMark, PartState, Replay, Still
from recordings.service import parts_of, queue_replay
from remote_check.accounts.access import Principal
from remote_check.audit.service import Actor, record
from remote_check.checklist.models import ChecklistItem
from remote_check.errors import Conflict, Forbidden, Message
from scheduler.access import may_mark, session_in_scope
from scheduler.models import CheckSession

NOT_ON_PANEL = Message("只有该项目核查组的专家可以标记", "Only the experts of this project's panel may mark")


async def marking_session(session: AsyncSession, principal: Principal, session_id: int) -> CheckSession:
    """The session if ``principal`` sees it (else 404) and may mark its project (else 403)."""
    check = await session_in_scope(session, principal, session_id)
    if not await may_mark(session, principal, check.project_id):
        raise Forbidden(NOT_ON_PANEL)
    return check


async def mark_item(
    session: AsyncSession,
    principal: Principal,
    check: CheckSession,
    code: str,
    edge: Literal["start", "end"],
    *,
    seconds: float,
    part: int,
    now: dt.datetime,
) -> tuple[ItemMark, str]:
    """Start or end the mark of item ``code`` at ``seconds`` on the recording (``mark.start`` or
    ``mark.end`` in the audit log); the mark and the item's code."""
    item = await marks.item_of(session, check.project_id, code)
    if edge == "start":
        mark = await marks.start_mark(session, check.id, item, seconds, by=principal.user_id, now=now)
    else:
        mark = await marks.end_mark(session, check.id, item, seconds)
    await record(
        session,
        Actor.of(principal),
        f"mark.{edge}",
        f"session:{check.id}",
        at=now,
        city_code=check.city_code,
        details={"item": item.code, "at_ms": round(seconds * 1000), "part": part},
    )
    return mark, item.code


async def keep_still(
    session: AsyncSession,
    principal: Principal,
    check: CheckSession,
    item: ChecklistItem | None,
    *,
    code: str | None,
    part: int,
    file: str,
    seconds: float,
    now: dt.datetime,
) -> Still:
    """Store the still the room took (``still.take`` in the audit log), for ``item`` if given."""
    still = await marks.add_still(
        session, check.id, item, part=part, file=file, seconds=seconds, by=principal.user_id, now=now
    )
    await record(
        session,
        Actor.of(principal),
        "still.take",
        f"session:{check.id}",
        at=now,
        city_code=check.city_code,
        details={"item": code, "at_ms": round(seconds * 1000), "file": file},
    )
    return still


async def render_again(
    session: AsyncSession, principal: Principal, session_id: int, *, now: dt.datetime
) -> tuple[CheckSession, Replay]:
    """Queue the session's replay for rendering (``replay.queue`` in the audit log); refused when
    nothing was recorded or a part is still recording. The caller wakes the renderer after commit."""
    check = await session_in_scope(session, principal, session_id, lock=True)
    parts = await parts_of(session, check.id)
    if not parts:
        raise Conflict(Message("本次会议没有录制，无法生成回放", "Nothing was recorded in this session"))
    if any(p.state == PartState.RECORDING for p in parts):
        raise Conflict(
            Message("会议仍在录制，停止录制后将自动生成回放", "The session is still being recorded")
        )
    replay = await queue_replay(session, check.id, now=now)
    await record(
        session, Actor.of(principal), "replay.queue", f"session:{check.id}", at=now,
        city_code=check.city_code, details={"parts": str(len(parts))},
    )  # fmt: skip
    return check, replay


async def audited_read(
    session: AsyncSession,
    principal: Principal,
    session_id: int,
    action: str,
    details: dict[str, Any],
    *,
    now: dt.datetime,
) -> CheckSession:
    """The session if ``principal`` sees it (else 404), with the sensitive read ``action``
    (``recording.view``, ``recording.download``...) in the audit log."""
    check = await session_in_scope(session, principal, session_id)
    await record(
        session,
        Actor.of(principal),
        action,
        f"session:{check.id}",
        at=now,
        city_code=check.city_code,
        details=details,
    )
    return check
