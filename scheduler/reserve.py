"""Taking a check's resources (a supplier team, the enterprise, the panel's experts) for a session or
a hold, inside the caller's transaction.

Clashes are refused as a whole: a 409 names every clash, offers the nearest times at which the
whole check fits, and nothing is written. SQLite serialises writers (``BEGIN IMMEDIATE``), so the
overlap check and the inserts cannot interleave with another booking. On PostgreSQL two bookings
may both pass the check; the exclusion constraint ``ex_bookings_no_overlap`` then refuses the
second insert (SQLSTATE 23P01), which is rolled back to a savepoint, checked again and reported as
the same 409 (or placed on another free team of the supplier).

A lapsed hold (``expires_at`` at or before the app's ``now``) is ignored by the check; its rows on
the resources asked for are deleted first, so that the exclusion constraint does not see them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from remote_check.accounts.access import Principal
from remote_check.clock import local
from remote_check.errors import Conflict, Message
from remote_check.experts.models import Expert
from scheduler.availability import availability_problems, city_rooms, with_problems
from scheduler.booking import (
    EXPERT_BUFFER,
    SUPPLIER_BUFFER,
    Interval,
    Plan,
    allocate,
    resources_of,
    session_demands,
    span,
)
from scheduler.clashes import clash_error
from scheduler.models import Booking, CheckSession, Hold
from scheduler.offers import held_in, offer_times
from scheduler.rules import Parties, visible_sessions

EXCLUSION_VIOLATION = "23P01"
ATTEMPTS = 5


@dataclass(frozen=True)
class Buffers:
    """Time a resource needs after a session before its next one."""

    supplier: dt.timedelta = SUPPLIER_BUFFER
    expert: dt.timedelta = EXPERT_BUFFER


DEFAULT_BUFFERS = Buffers()


@dataclass(frozen=True)
class Owner:
    """Whose bookings are made: a session's or a hold's (exactly one)."""

    session_id: int | None = None
    hold_id: int | None = None


async def _sessions_of(session: AsyncSession, ids: set[int]) -> dict[int, CheckSession]:
    rows = (await session.scalars(select(CheckSession).where(CheckSession.id.in_(ids)))).all()
    return {s.id: s for s in rows}


async def _holds_of(session: AsyncSession, ids: set[int]) -> dict[int, Hold]:
    rows = (await session.scalars(select(Hold).where(Hold.id.in_(ids)))).all()
    return {h.id: h for h in rows}


async def drop_lapsed(
    session: AsyncSession, resources: list[str], window: Interval, now: dt.datetime
) -> None:
    """Delete the rows of lapsed holds on ``resources`` over ``window`` (the holds stay, lapsed)."""
    lapsed = select(Hold.id).where(Hold.expires_at <= now)
    await session.execute(
        delete(Booking).where(
            Booking.hold_id.in_(lapsed),
            Booking.resource.in_(resources),
            Booking.starts_at < window.ends,
            Booking.ends_at > window.starts,
        )
    )


async def reserve(
    session: AsyncSession,
    principal: Principal,
    *,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    owner: Owner,
    parties: Parties,
    experts: list[Expert],
    buffers: Buffers,
    now: dt.datetime,
    deadline: dt.date | None,
) -> Plan:
    """Take every resource of the check for ``owner`` or raise the 409 naming each clash and
    offering the nearest times at which the whole check fits; race-safe on PostgreSQL."""
    rooms = await city_rooms(session, parties.project.city_code)
    demands = session_demands(
        starts_at=starts_at,
        ends_at=ends_at,
        supplier_id=parties.supplier.id,
        supplier_teams=parties.supplier.teams,
        enterprise_id=parties.enterprise.id,
        expert_ids=[e.id for e in experts],
        supplier_buffer=buffers.supplier,
        expert_buffer=buffers.expert,
        city_code=parties.project.city_code,
        city_rooms=rooms,
    )
    resources, window = resources_of(demands), span(demands)
    await drop_lapsed(session, resources, window, now)
    problems = await availability_problems(
        session,
        city_code=parties.project.city_code,
        window=Interval(starts_at, ends_at),
        experts=experts,
        enterprise=parties.enterprise,
    )
    for _ in range(ATTEMPTS):
        plan = allocate(demands, await held_in(session, resources, window, now))
        if not plan.ok or problems:
            blocking = {b.session_id for c in plan.clashes for b in c.blocking if b.hold_id is None}
            holding = {b.hold_id for c in plan.clashes for b in c.blocking if b.hold_id is not None}
            error = with_problems(
                clash_error(
                    plan.clashes,
                    await _sessions_of(session, blocking),
                    parties,
                    experts,
                    await visible_sessions(session, principal, blocking),
                    await _holds_of(session, holding),
                )
                if not plan.ok
                else None,
                problems,
            )
            offers = await offer_times(
                session,
                starts_at=starts_at,
                ends_at=ends_at,
                now=now,
                deadline=deadline,
                supplier_id=parties.supplier.id,
                supplier_teams=parties.supplier.teams,
                enterprise_id=parties.enterprise.id,
                expert_ids=[e.id for e in experts],
                supplier_buffer=buffers.supplier,
                expert_buffer=buffers.expert,
                city_code=parties.project.city_code,
                city_rooms=rooms,
            )
            error.extra["suggestions"] = [
                {"starts_at": local(o.starts_at).isoformat(), "ends_at": local(o.ends_at).isoformat()}
                for o in offers
            ]
            raise error
        try:
            async with session.begin_nested():
                session.add_all(
                    Booking(
                        session_id=owner.session_id,
                        hold_id=owner.hold_id,
                        resource=a.resource,
                        starts_at=a.interval.starts,
                        ends_at=a.interval.ends,
                        slot=a.slot,
                    )
                    for a in plan.allocations
                )
                await session.flush()
        except IntegrityError as exc:
            if getattr(exc.orig, "sqlstate", None) != EXCLUSION_VIOLATION:
                raise
            continue  # another booking committed first: look again
        return plan
    raise Conflict(Message("预订冲突，请重试", "The booking collided with others; try again"))
