"""Booking, moving and cancelling check sessions, inside the caller's transaction.

Clashes are refused as a whole: a 409 names every clash and nothing is written. SQLite
serialises writers (``BEGIN IMMEDIATE``), so the overlap check and the inserts cannot
interleave with another booking. On PostgreSQL two bookings may both pass the check; the
exclusion constraint ``ex_bookings_no_overlap`` then refuses the second insert (SQLSTATE
23P01), which is rolled back to a savepoint, checked again and reported as the same 409 (or
placed on another free team of the supplier).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from remote_check.accounts.access import Principal
from remote_check.audit.service import Actor, record
from remote_check.errors import Conflict, Message
from remote_check.experts.models import Expert
from remote_check.programme.models import ProjectStatus
from remote_check.programme.status import check_move
from scheduler.booking import (
    EXPERT_BUFFER,
    SUPPLIER_BUFFER,
    Held,
    Interval,
    Plan,
    allocate,
    resources_of,
    session_demands,
    span,
)
from scheduler.clashes import clash_error
from scheduler.life import check_move as check_session_move
from scheduler.lifecycle import ACTIVE, release_project
from scheduler.models import Booking, CheckSession, PanelRole, PanelSeat, SessionStatus
from scheduler.rules import (
    Parties,
    check_host,
    check_parties,
    check_times,
    check_working_time,
    load_panel,
    load_parties,
    load_session,
    must_be_booked,
    panel_of,
    visible_sessions,
)

EXCLUSION_VIOLATION = "23P01"
ATTEMPTS = 5


@dataclass(frozen=True)
class Buffers:
    """Time a resource needs after a session before its next one."""

    supplier: dt.timedelta = SUPPLIER_BUFFER
    expert: dt.timedelta = EXPERT_BUFFER


@dataclass(frozen=True)
class NewSession:
    project_id: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    panel: Sequence[int]  # expert ids, the lead first
    host_user_id: int | None = None
    confirmed_off_hours: bool = False  # the booker confirmed a time on a weekend or outside working hours


async def _held(session: AsyncSession, resources: list[str], window: Interval) -> list[tuple[Held, str]]:
    """Bookings of ``resources`` overlapping ``window``, each with its session's city."""
    rows = (
        await session.execute(
            select(Booking, CheckSession.city_code)
            .join(CheckSession, CheckSession.id == Booking.session_id)
            .where(
                Booking.resource.in_(resources),
                Booking.starts_at < window.ends,
                Booking.ends_at > window.starts,
            )
        )
    ).all()
    return [(Held(b.resource, Interval(b.starts_at, b.ends_at), b.session_id), city) for b, city in rows]


async def _sessions_of(session: AsyncSession, ids: set[int]) -> dict[int, CheckSession]:
    rows = (await session.scalars(select(CheckSession).where(CheckSession.id.in_(ids)))).all()
    return {s.id: s for s in rows}


async def _reserve(
    session: AsyncSession,
    principal: Principal,
    check: CheckSession,
    parties: Parties,
    experts: list[Expert],
    buffers: Buffers,
) -> Plan:
    """Take every resource of ``check`` or raise the 409 naming each clash; race-safe on PostgreSQL."""
    demands = session_demands(
        starts_at=check.starts_at,
        ends_at=check.ends_at,
        supplier_id=parties.supplier.id,
        supplier_teams=parties.supplier.teams,
        enterprise_id=parties.enterprise.id,
        expert_ids=[e.id for e in experts],
        supplier_buffer=buffers.supplier,
        expert_buffer=buffers.expert,
    )
    resources, window = resources_of(demands), span(demands)
    for _ in range(ATTEMPTS):
        held = await _held(session, resources, window)
        plan = allocate(demands, [h for h, _ in held])
        if not plan.ok:
            blocking = {b.session_id for c in plan.clashes for b in c.blocking}
            raise clash_error(
                plan.clashes,
                await _sessions_of(session, blocking),
                parties,
                experts,
                await visible_sessions(session, principal, blocking),
            )
        try:
            async with session.begin_nested():
                session.add_all(
                    Booking(
                        session_id=check.id,
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


async def book_session(
    session: AsyncSession,
    principal: Principal,
    new: NewSession,
    *,
    now: dt.datetime,
    buffers: Buffers = Buffers(),
) -> CheckSession:
    """Book a session and hold its supplier team, enterprise and experts; the project becomes scheduled."""
    check_times(new.starts_at, new.ends_at, now)
    parties = await load_parties(session, principal, new.project_id, lock=True)
    experts = await load_panel(session, new.panel, parties)
    check_parties(parties, now)
    active = await session.scalar(
        select(CheckSession.id).where(
            CheckSession.project_id == new.project_id, CheckSession.status.in_(ACTIVE)
        )
    )
    if active is not None:
        raise Conflict(
            Message(
                f"该项目已有核查会议 #{active}，请在该会议页面改期，而不是重复预订",
                f"This project already has session #{active}; reschedule it on its page instead",
            ),
        )
    project = parties.project
    host_id = await check_host(session, principal, new.host_user_id, project.city_code)
    check_working_time(new.starts_at, new.ends_at, confirmed=new.confirmed_off_hours)  # the last word
    check = CheckSession(
        project_id=project.id,
        city_code=project.city_code,
        starts_at=new.starts_at,
        ends_at=new.ends_at,
        status=SessionStatus.BOOKED,
        host_user_id=host_id,
        created_at=now,
        created_by=principal.user_id,
    )
    session.add(check)
    await session.flush()
    plan = await _reserve(session, principal, check, parties, experts, buffers)
    session.add_all(
        PanelSeat(session_id=check.id, expert_id=e.id, role=PanelRole.LEAD if i == 0 else PanelRole.MEMBER)
        for i, e in enumerate(experts)
    )
    if project.status == ProjectStatus.SAMPLED:
        check_move(project.status, ProjectStatus.SCHEDULED)
        project.status = ProjectStatus.SCHEDULED
    await session.flush()
    await record(
        session,
        Actor.of(principal),
        "session.book",
        f"session:{check.id}",
        at=now,
        city_code=project.city_code,
        details={
            "project": project.code,
            "starts_at": check.starts_at.isoformat(),
            "ends_at": check.ends_at.isoformat(),
            "panel": [e.id for e in experts],
            "resources": [a.resource for a in plan.allocations],
        },
    )
    return check


async def move_session(
    session: AsyncSession,
    principal: Principal,
    session_id: int,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    *,
    now: dt.datetime,
    panel: Sequence[int] | None = None,
    confirmed_off_hours: bool = False,
    buffers: Buffers = Buffers(),
) -> CheckSession:
    """Reschedule a session that has not been held: a new time and, if given, a new panel (lead
    first), under the booking's rules. The old holds are released only if the new ones succeed;
    the guests' links stay valid and follow the new time."""
    check, parties = await load_session(session, principal, session_id, lock=True)
    must_be_booked(check)
    check_times(starts_at, ends_at, now)
    check_parties(parties, now)
    current = await panel_of(session, check.id)
    before_panel = [e.id for e in current]
    experts = current if panel is None else await load_panel(session, panel, parties)
    check_working_time(starts_at, ends_at, confirmed=confirmed_off_hours)
    before = (check.starts_at, check.ends_at)
    await session.execute(delete(Booking).where(Booking.session_id == check.id))
    check.starts_at, check.ends_at = starts_at, ends_at
    check.opened_at = None  # an early opening was for the old time
    check.booking_version += 1  # notices: an update of the same calendar event (scheduler/notify)
    await session.flush()
    plan = await _reserve(session, principal, check, parties, experts, buffers)
    after_panel = [e.id for e in experts]
    if after_panel != before_panel:
        await session.execute(delete(PanelSeat).where(PanelSeat.session_id == check.id))
        session.add_all(
            PanelSeat(session_id=check.id, expert_id=e, role=PanelRole.LEAD if i == 0 else PanelRole.MEMBER)
            for i, e in enumerate(after_panel)
        )
        await session.flush()
    details: dict[str, object] = {
        "from": [t.isoformat() for t in before],
        "to": [starts_at.isoformat(), ends_at.isoformat()],
        "resources": [a.resource for a in plan.allocations],
    }
    if after_panel != before_panel:
        details["panel"] = {"from": before_panel, "to": after_panel}
    await record(
        session,
        Actor.of(principal),
        "session.move",
        f"session:{check.id}",
        at=now,
        city_code=check.city_code,
        details=details,
    )
    return check


async def cancel_session(
    session: AsyncSession, principal: Principal, session_id: int, *, now: dt.datetime, reason: str = ""
) -> CheckSession:
    """Cancel a session that has not been held: its holds are freed and the project goes back to
    sampled. Its panel keeps seeing the session as cancelled, and nothing of the project after it."""
    check, parties = await load_session(session, principal, session_id, lock=True)
    must_be_booked(check)
    await session.execute(delete(Booking).where(Booking.session_id == check.id))
    check_session_move(check.status, SessionStatus.CANCELLED)
    check.status = SessionStatus.CANCELLED
    check.ended_at, check.ended_by = now, principal.user_id
    await session.flush()
    project = parties.project
    await release_project(session, project)
    await session.flush()
    await record(
        session,
        Actor.of(principal),
        "session.cancel",
        f"session:{check.id}",
        at=now,
        city_code=check.city_code,
        details={"project": project.code, "reason": reason},
    )
    return check
