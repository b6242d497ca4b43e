"""Booking, moving and cancelling check sessions, inside the caller's transaction.

Resources are taken by :func:`scheduler.reserve.reserve` (a clash is one 409 naming every clash,
with the nearest free times; race-safe on SQLite and PostgreSQL). A session belongs to its
project's campaign and ends by its deadline; booking converts the booker's hold on the project.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, insert
from sqlalchemy.ext.asyncio import AsyncSession

from remote_check.accounts.access import Principal
from remote_check.audit.service import Actor, record
from remote_check.campaigns.models import Campaign
from remote_check.experts.models import Expert
from remote_check.programme.models import ProjectStatus
from remote_check.programme.status import check_move
from scheduler.campaign_rules import campaign_of, check_deadline
from scheduler.holds import refuse_second_session_or_campaign, release_holds
from scheduler.life import check_move as check_session_move
from scheduler.lifecycle import release_project
from scheduler.models import Booking, CheckSession, PanelRole, PanelSeat, SessionStatus
from scheduler.offers import Mine
from scheduler.reserve import DEFAULT_BUFFERS, Buffers, Owner, reserve
from scheduler.rules import (
    RECHECKABLE,
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
)


@dataclass(frozen=True)
class NewSession:
    project_id: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    panel: Sequence[int]  # expert ids, the lead first
    host_user_id: int | None = None
    confirmed_off_hours: bool = False  # the booker confirmed a time on a weekend or outside working hours


async def _campaign_of_session(session: AsyncSession, check: CheckSession) -> Campaign | None:
    """The session's campaign; one booked before sessions recorded it gets it now."""
    if check.campaign_id is not None:
        return await session.get(Campaign, check.campaign_id)
    campaign = await campaign_of(session, check.project_id)
    check.campaign_id = campaign.id if campaign else None
    return campaign


@dataclass(frozen=True)
class Booked:
    """A session just booked, with what its answer shows (all in hand, nothing to read again)."""

    check: CheckSession
    parties: Parties
    panel: list[tuple[PanelSeat, Expert]]  # the lead first
    resources: list[str]  # by name


async def book_session(
    session: AsyncSession,
    principal: Principal,
    new: NewSession,
    *,
    now: dt.datetime,
    buffers: Buffers = DEFAULT_BUFFERS,
) -> CheckSession:
    """Book a session and hold its supplier team, enterprise and experts; the project becomes scheduled."""
    return (await book(session, principal, new, now=now, buffers=buffers)).check


async def book(
    session: AsyncSession,
    principal: Principal,
    new: NewSession,
    *,
    now: dt.datetime,
    buffers: Buffers = DEFAULT_BUFFERS,
) -> Booked:
    """:func:`book_session`, answering the session with its parties, panel and resources.

    The session's row is written only once its resources are found free (a refusal writes
    nothing), and the audit entry is the last statement: the audit chain's head stays locked
    from there to the commit only.
    """
    check_times(new.starts_at, new.ends_at, now)
    parties = await load_parties(session, principal, new.project_id, lock=True)
    experts = await load_panel(session, new.panel, parties)
    check_parties(parties, now)
    campaign = await refuse_second_session_or_campaign(session, new.project_id)
    project = parties.project
    host_id = await check_host(session, principal, new.host_user_id, project.city_code)
    check_deadline(new.ends_at, campaign)
    check_working_time(new.starts_at, new.ends_at, confirmed=new.confirmed_off_hours)  # the last word
    check = CheckSession(
        project_id=project.id,
        campaign_id=campaign.id if campaign else None,
        city_code=project.city_code,
        starts_at=new.starts_at,
        ends_at=new.ends_at,
        status=SessionStatus.BOOKED,
        host_user_id=host_id,
        created_at=now,
        created_by=principal.user_id,
    )

    async def write_check() -> Owner:
        await release_holds(session, principal, project.id)  # the holder's hold becomes this booking
        session.add(check)
        await session.flush()
        return Owner(session_id=check.id)

    deadline = campaign.deadline if campaign else None
    plan = await reserve(
        session,
        principal,
        starts_at=new.starts_at,
        ends_at=new.ends_at,
        owner=write_check,
        parties=parties,
        experts=experts,
        buffers=buffers,
        now=now,
        deadline=deadline,
        mine=Mine(principal.user_id, project.id),
    )
    seats = [
        PanelSeat(session_id=check.id, expert_id=e.id, role=PanelRole.LEAD if i == 0 else PanelRole.MEMBER)
        for i, e in enumerate(experts)
    ]  # written in one statement, lead first (their ids keep that order); these copies answer
    await session.execute(
        insert(PanelSeat),
        [{"session_id": s.session_id, "expert_id": s.expert_id, "role": s.role} for s in seats],
    )
    if project.status == ProjectStatus.SAMPLED or project.status in RECHECKABLE:
        check_move(project.status, ProjectStatus.SCHEDULED)
        project.status = ProjectStatus.SCHEDULED
    await session.flush()
    resources = sorted(a.resource for a in plan.allocations)
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
    return Booked(check, parties, list(zip(seats, experts, strict=True)), resources)


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
    buffers: Buffers = DEFAULT_BUFFERS,
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
    campaign = await _campaign_of_session(session, check)
    check_deadline(ends_at, campaign)
    check_working_time(starts_at, ends_at, confirmed=confirmed_off_hours)
    before = (check.starts_at, check.ends_at)
    await session.execute(delete(Booking).where(Booking.session_id == check.id))
    check.starts_at, check.ends_at = starts_at, ends_at
    check.opened_at = None  # an early opening was for the old time
    check.booking_version += 1  # notices: an update of the same calendar event (scheduler/notify)
    await session.flush()
    deadline = campaign.deadline if campaign else None
    plan = await reserve(
        session,
        principal,
        starts_at=check.starts_at,
        ends_at=check.ends_at,
        owner=Owner(session_id=check.id),
        parties=parties,
        experts=experts,
        buffers=buffers,
        now=now,
        deadline=deadline,
    )
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
