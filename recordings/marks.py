"""Experts' marks and stills during a recorded call.

A mark says that a checklist item was shown from ``start`` to ``end`` seconds on the recording's
clock. The times come from the room (:meth:`media.host.RoomHost.recording_time`), never from the
browser; these functions only store them. One item has at most one open mark (started, not ended)
at a time; an item may be marked again later (shown twice). Services only flush.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from recordings.models import ItemMark, Still
from remote_check.checklist.models import ChecklistItem
from remote_check.errors import Conflict, Message, NotFound


async def item_of(session: AsyncSession, project_id: int, code: str) -> ChecklistItem:
    """A project's checklist item by its code; 404 when it has none."""
    item = await session.scalar(
        select(ChecklistItem).where(ChecklistItem.project_id == project_id, ChecklistItem.code == code)
    )
    if item is None:
        raise NotFound("核查项", "Checklist item")
    return item


async def _open_mark(session: AsyncSession, session_id: int, item_id: int) -> ItemMark | None:
    return await session.scalar(
        select(ItemMark).where(
            ItemMark.session_id == session_id, ItemMark.item_id == item_id, ItemMark.end.is_(None)
        )
    )


async def start_mark(
    session: AsyncSession, session_id: int, item: ChecklistItem, seconds: float, *, by: int, now: dt.datetime
) -> ItemMark:
    """The item is shown from ``seconds`` on; refused while a mark of it is open."""
    if await _open_mark(session, session_id, item.id) is not None:
        raise Conflict(
            Message(
                f"检查项 {item.code} 已在标记中，请先结束",
                f"Item {item.code} is marked already: end it first",
            )
        )
    mark = ItemMark(
        session_id=session_id, item_id=item.id, start=seconds, end=None, created_by=by, created_at=now
    )
    session.add(mark)
    await session.flush()
    return mark


async def end_mark(session: AsyncSession, session_id: int, item: ChecklistItem, seconds: float) -> ItemMark:
    """The item's open mark ends at ``seconds``; refused when none is open."""
    mark = await _open_mark(session, session_id, item.id)
    if mark is None:
        raise Conflict(
            Message(
                f"检查项 {item.code} 尚未开始标记", f"Item {item.code} has no mark to end: start one first"
            )
        )
    mark.end = max(seconds, mark.start)
    await session.flush()
    return mark


async def add_still(
    session: AsyncSession,
    session_id: int,
    item: ChecklistItem | None,
    *,
    part: int,
    file: str,
    seconds: float,
    by: int,
    now: dt.datetime,
) -> Still:
    """A still saved by the room (``file`` under the recordings folder), for ``item`` if given."""
    still = Still(
        session_id=session_id,
        item_id=item.id if item is not None else None,
        part_number=part,
        file=file,
        at=seconds,
        created_by=by,
        created_at=now,
    )
    session.add(still)
    await session.flush()
    return still


async def marks_of(session: AsyncSession, session_id: int) -> list[tuple[ItemMark, str]]:
    """A session's marks in time order, with their item's code."""
    rows = await session.execute(
        select(ItemMark, ChecklistItem.code)
        .join(ChecklistItem, ChecklistItem.id == ItemMark.item_id)
        .where(ItemMark.session_id == session_id)
        .order_by(ItemMark.start, ItemMark.id)
    )
    return [(mark, code) for mark, code in rows.all()]


async def stills_of(session: AsyncSession, session_id: int) -> list[tuple[Still, str | None]]:
    """A session's stills in time order, with their item's code (if any)."""
    rows = await session.execute(
        select(Still, ChecklistItem.code)
        .outerjoin(ChecklistItem, ChecklistItem.id == Still.item_id)
        .where(Still.session_id == session_id)
        .order_by(Still.at, Still.id)
    )
    return [(still, code) for still, code in rows.all()]


async def still_of(session: AsyncSession, session_id: int, still_id: int) -> Still | None:
    """The still ``still_id`` if it was taken in session ``session_id``."""
    return await session.scalar(select(Still).where(Still.id == still_id, Still.session_id == session_id))
