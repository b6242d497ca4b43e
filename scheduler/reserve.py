"""Taking a check's resources (a supplier team, the enterprise, the panel's experts) for a session or
a hold, inside the caller's transaction.

Clashes are refused as a whole: a 409 names every clash, offers the nearest times at which the
whole check fits, and nothing is written. SQLite serialises writers (``BEGIN IMMEDIATE``), so the
overlap check and the inserts cannot interleave with another booking. On PostgreSQL two bookings
may both pass the check; the exclusion constraint ``ex_bookings_no_overlap`` then refuses the
second insert (SQLSTATE 23P01), which is rolled back to a savepoint, checked again and reported as
the same 409 (or placed on another free team of the supplier).

A lapsed hold (``expires_at`` at or before the app's ``now``) is ignored by the check; its rows on
the resources asked for are deleted before the inserts, so that the exclusion constraint does not
see them. Two bookings that insert conflicting rows at once may also both wait for the other
inside the exclusion constraint: PostgreSQL then breaks the deadlock (SQLSTATE 40P01) by failing
one of them, which is rolled back to its savepoint and looks again, like an exclusion violation.

The owner's row (a session, a hold) may be made lazily (:data:`MakeOwner`): only once the check
found every resource free, so that a refused booking writes nothing at all before its 409.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from remote_check.accounts.access import Principal
from remote_check.clock import local
from remote_check.errors import Conflict, Message
from remote_check.experts.models import Expert
from remote_check.programme.models import VoucherProject
from scheduler.access import scope_sessions
from scheduler.availability import availability_of, availability_problems, with_problems
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
from scheduler.offers import Mine, bookings_in, offer_times
from scheduler.rules import Parties

EXCLUSION_VIOLATION = "23P01"
DEADLOCK_DETECTED = "40P01"
RETRIED = {EXCLUSION_VIOLATION, DEADLOCK_DETECTED}
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


MakeOwner = Callable[[], Awaitable[Owner]]
"""Writes the owner's row and answers it; called once, when the resources are found free."""


_BLOCKING = aliased(CheckSession, name="blocking")  # made once: building an alias is costly


async def _blocking_sessions(
    session: AsyncSession, principal: Principal, ids: set[int]
) -> tuple[dict[int, CheckSession], set[int]]:
    """The sessions ``ids`` in the way, and which of them ``principal`` may see (named by id), in
    one statement."""
    if not ids:
        return {}, set()
    blocking = _BLOCKING
    seen = scope_sessions(
        select(CheckSession.id)
        .join(VoucherProject, VoucherProject.id == CheckSession.project_id)
        .where(CheckSession.id.in_(ids)),
        principal,
    )
    rows = (await session.execute(select(blocking, blocking.id.in_(seen)).where(blocking.id.in_(ids)))).all()
    return {s.id: s for s, _ in rows}, {s.id for s, visible in rows if visible}


async def _holds_of(session: AsyncSession, ids: set[int]) -> dict[int, Hold]:
    if not ids:
        return {}
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
    owner: Owner | MakeOwner,
    parties: Parties,
    experts: list[Expert],
    buffers: Buffers,
    now: dt.datetime,
    deadline: dt.date | None,
    mine: Mine | None = None,
) -> Plan:
    """Take every resource of the check for ``owner`` (made first if it is a :data:`MakeOwner`) or
    raise the 409 naming each clash and offering the nearest times at which the whole check fits;
    race-safe on PostgreSQL. ``mine``: the booker's holds of the project, which do not count (the
    owner's maker releases them before the inserts)."""
    rooms = parties.city_rooms
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
    availability = await availability_of(
        session,
        city_code=parties.project.city_code,
        expert_ids=[e.id for e in experts],
        enterprise_id=parties.enterprise.id,
        window=window,
    )
    problems = availability_problems(
        availability,
        city_code=parties.project.city_code,
        window=Interval(starts_at, ends_at),
        experts=experts,
        enterprise=parties.enterprise,
    )
    for _ in range(ATTEMPTS):
        found = await bookings_in(session, resources, window, now, mine)
        plan = allocate(demands, found.held)
        if not plan.ok or problems:
            blocking = {b.session_id for c in plan.clashes for b in c.blocking if b.hold_id is None}
            holding = {b.hold_id for c in plan.clashes for b in c.blocking if b.hold_id is not None}
            sessions, visible = await _blocking_sessions(session, principal, blocking)
            error = with_problems(
                clash_error(
                    plan.clashes, sessions, parties, experts, visible, await _holds_of(session, holding)
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
                served=availability.served,
                mine=mine,
            )
            error.extra["suggestions"] = [
                {"starts_at": local(o.starts_at).isoformat(), "ends_at": local(o.ends_at).isoformat()}
                for o in offers
            ]
            raise error
        if found.lapsed:  # so that the exclusion constraint does not see them
            await drop_lapsed(session, resources, window, now)
        if not isinstance(owner, Owner):
            owner = await owner()
        try:
            async with session.begin_nested():
                await session.execute(
                    insert(Booking),
                    [
                        {
                            "session_id": owner.session_id,
                            "hold_id": owner.hold_id,
                            "resource": a.resource,
                            "starts_at": a.interval.starts,
                            "ends_at": a.interval.ends,
                            "slot": a.slot,
                        }
                        for a in plan.allocations
                    ],
                )
        except DBAPIError as exc:
            if getattr(exc.orig, "sqlstate", None) not in RETRIED:
                raise
            continue  # another booking committed first (or we both waited): look again
        return plan
    raise Conflict(Message("预订冲突，请重试", "The booking collided with others; try again"))
