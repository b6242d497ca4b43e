"""Schedules to look at: a city's week, a supplier's commitments across cities, an expert's own
checks, and the free and busy times of a check's resources on a day. Always within the caller's
scope: what they may not see in detail is a busy block (city and time), never a project."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from remote_check.accounts.access import Principal
from remote_check.clock import SHANGHAI
from remote_check.programme.models import VoucherProject
from scheduler.booking import Interval
from scheduler.models import VOID, Booking, CheckSession
from scheduler.offers import held_in
from scheduler.queries import SessionFilter, SessionRow, list_sessions

MOST = 1000  # sessions on one page: a city's week or a supplier's is far fewer


@dataclass(frozen=True)
class Block:
    """A check on a schedule; ``row`` is ``None`` when the viewer sees only that it is busy."""

    city_code: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    row: SessionRow | None


def monday_of(day: dt.date) -> dt.date:
    """The Monday of ``day``'s week."""
    return day - dt.timedelta(days=day.weekday())


def week_days(monday: dt.date) -> list[dt.date]:
    return [monday + dt.timedelta(days=i) for i in range(7)]


def by_day(blocks: Sequence[Block]) -> dict[dt.date, list[Block]]:
    """Blocks grouped by their local day, each day in time order."""
    out: dict[dt.date, list[Block]] = defaultdict(list)
    for block in sorted(blocks, key=lambda b: b.starts_at):
        out[block.starts_at.astimezone(SHANGHAI).date()].append(block)
    return out


async def _visible(session: AsyncSession, principal: Principal, f: SessionFilter) -> list[SessionRow]:
    rows, _ = await list_sessions(session, principal, f, page_size=MOST)
    return [r for r in rows if r.session.status not in VOID]


async def city_week(session: AsyncSession, principal: Principal, city: str, monday: dt.date) -> list[Block]:
    """The checks of ``city`` in the week from ``monday`` that ``principal`` sees (not cancelled)."""
    f = SessionFilter(city_code=city, date_from=monday, date_to=monday + dt.timedelta(days=6))
    return [
        Block(r.session.city_code, r.session.starts_at, r.session.ends_at, r)
        for r in await _visible(session, principal, f)
    ]


async def room_slots(session: AsyncSession, session_ids: Sequence[int]) -> dict[int, int]:
    """The room (0-based slot of its city's rooms) each of the sessions holds; a session booked
    without one is absent."""
    rows = await session.execute(
        select(Booking.session_id, Booking.slot).where(
            Booking.session_id.in_(list(session_ids)), Booking.resource.like("room:%")
        )
    )
    return {sid: slot for sid, slot in rows.all() if sid is not None}


async def supplier_week(
    session: AsyncSession, principal: Principal, supplier_id: int, monday: dt.date
) -> list[Block]:
    """Every check of the supplier in the week, across all cities: in detail where ``principal``
    sees the session, else only as busy (city and time)."""
    f = SessionFilter(supplier_id=supplier_id, date_from=monday, date_to=monday + dt.timedelta(days=6))
    seen = {r.session.id: r for r in await _visible(session, principal, f)}
    start = dt.datetime.combine(monday, dt.time(0), tzinfo=SHANGHAI)
    every = (
        await session.execute(
            select(CheckSession.id, CheckSession.city_code, CheckSession.starts_at, CheckSession.ends_at)
            .join(VoucherProject, VoucherProject.id == CheckSession.project_id)
            .where(
                VoucherProject.supplier_id == supplier_id,
                CheckSession.status.not_in(VOID),
                CheckSession.starts_at >= start,
                CheckSession.starts_at < start + dt.timedelta(days=7),
            )
        )
    ).all()
    return [Block(city, starts, ends, seen.get(sid)) for sid, city, starts, ends in every]


async def expert_schedule(session: AsyncSession, principal: Principal, since: dt.date) -> list[Block]:
    """The signed-in expert's own checks from ``since`` on (none for a user who is not an expert)."""
    if principal.expert_id is None:
        return []
    f = SessionFilter(expert_id=principal.expert_id, date_from=since)
    return [
        Block(r.session.city_code, r.session.starts_at, r.session.ends_at, r)
        for r in await _visible(session, principal, f)
    ]


@dataclass(frozen=True)
class Lane:
    """One resource's busy times on a day, for the booking form's side-by-side view."""

    label: str
    busy: list[Interval]


async def lanes(
    session: AsyncSession, day: dt.date, named: Sequence[tuple[str, str]], now: dt.datetime
) -> list[Lane]:
    """The busy times (buffers included) of each ``(resource, label)`` on ``day`` (local), holds
    that have not lapsed included; one query."""
    start = dt.datetime.combine(day, dt.time(0), tzinfo=SHANGHAI)
    window = Interval(start, start + dt.timedelta(days=1))
    held = await held_in(session, [r for r, _ in named], window, now)
    busy: dict[str, list[Interval]] = defaultdict(list)
    for h in held:
        busy[h.resource].append(h.interval)
    return [Lane(label, sorted(busy[r], key=lambda i: i.starts)) for r, label in named]
