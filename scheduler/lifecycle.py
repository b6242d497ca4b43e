"""The steps of a session's life that the room and the coordinator take, inside the caller's
transaction and audited: opening the room early, the first entry, completion, no-show.

The steps themselves are checked against :mod:`scheduler.life`'s table.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from remote_check.accounts.access import Principal
from remote_check.accounts.models import Role
from remote_check.audit.service import Actor, record
from remote_check.errors import DomainError, Forbidden, Message
from remote_check.programme.models import ProjectStatus, VoucherProject
from remote_check.programme.status import check_move as check_project_move
from scheduler.life import check_move
from scheduler.models import Booking, CheckSession, SessionStatus
from scheduler.rules import load_session

ACTIVE = (SessionStatus.BOOKED, SessionStatus.IN_PROGRESS, SessionStatus.INTERRUPTED)
"""Sessions that hold their project (one at a time)."""


def is_host(principal: Principal, check: CheckSession) -> bool:
    """Who hosts a session's room: its host, a coordinator of its city, a province administrator."""
    coordinator = principal.role == Role.CITY_COORDINATOR and principal.city_code == check.city_code
    return principal.role == Role.PROVINCE_ADMIN or principal.user_id == check.host_user_id or coordinator


async def release_project(session: AsyncSession, project: VoucherProject) -> None:
    """A scheduled project without an active session goes back to sampled (to be booked again)."""
    others = await session.scalar(
        select(func.count(CheckSession.id)).where(
            CheckSession.project_id == project.id, CheckSession.status.in_(ACTIVE)
        )
    )
    if not others and project.status == ProjectStatus.SCHEDULED:
        check_project_move(project.status, ProjectStatus.SAMPLED)
        project.status = ProjectStatus.SAMPLED


async def open_room(
    session: AsyncSession, principal: Principal, session_id: int, *, now: dt.datetime
) -> CheckSession:
    """The host opens the room before its window; everyone invited may then enter."""
    check, _ = await load_session(session, principal, session_id, lock=True)
    if not is_host(principal, check):
        raise Forbidden(Message("只有主持人可以提前开放会议室", "Only the host can open the room early"))
    if check.status != SessionStatus.BOOKED:
        raise DomainError(
            Message(
                "只有尚未开始的会议可以提前开放", "Only a session that has not started can be opened early"
            ),
            409,
            "bad_status",
        )
    if check.opened_at is None:
        check.opened_at = now
        await session.flush()
        await record(
            session,
            Actor.of(principal),
            "session.open_room",
            f"session:{check.id}",
            at=now,
            city_code=check.city_code,
        )
    return check


async def room_entered(session: AsyncSession, session_id: int, actor: Actor, *, now: dt.datetime) -> None:
    """Someone entered the session's (open) room: a booked or interrupted session is in progress."""
    check = await session.get(CheckSession, session_id, with_for_update=True)
    if check is None or check.status not in (SessionStatus.BOOKED, SessionStatus.INTERRUPTED):
        return
    check_move(check.status, SessionStatus.IN_PROGRESS)
    first = check.started_at is None
    check.status = SessionStatus.IN_PROGRESS
    check.started_at = check.started_at or now
    await session.flush()
    if first:
        await record(
            session, actor, "session.start", f"session:{check.id}", at=now, city_code=check.city_code
        )


async def _complete(
    session: AsyncSession, check: CheckSession, actor: Actor, by: int | None, now: dt.datetime, how: str
) -> None:
    check_move(check.status, SessionStatus.DONE)
    check.status = SessionStatus.DONE
    check.ended_at, check.ended_by = now, by
    project = await session.get(VoucherProject, check.project_id, with_for_update=True)
    assert project is not None
    if project.status == ProjectStatus.SCHEDULED:
        check_project_move(project.status, ProjectStatus.CHECKED)
        project.status = ProjectStatus.CHECKED
    await session.flush()
    await record(
        session,
        actor,
        "session.complete",
        f"session:{check.id}",
        at=now,
        city_code=check.city_code,
        details={"how": how, "project": project.code},
    )


async def room_emptied(session: AsyncSession, session_id: int, *, now: dt.datetime) -> bool:
    """The last person left the room: a session in progress whose scheduled end has passed is
    completed (one that ends early is completed by its host). Whether it was."""
    check = await session.get(CheckSession, session_id, with_for_update=True)
    if check is None or check.status != SessionStatus.IN_PROGRESS or now < check.ends_at:
        return False
    await _complete(session, check, Actor.system(), None, now, "last_leave")
    return True


async def complete_session(
    session: AsyncSession, principal: Principal, session_id: int, *, now: dt.datetime
) -> CheckSession:
    """The host (or the city's coordinator) says the check is over: the session is completed."""
    check, _ = await load_session(session, principal, session_id, lock=True)
    if not is_host(principal, check):
        raise Forbidden(Message("只有主持人可以结束会议", "Only the host can end the session"))
    if check.status == SessionStatus.BOOKED:
        raise DomainError(
            Message(
                "会议尚未开始（无人进入会议室），不能标记为已完成",
                "The session has not started (nobody entered its room); it cannot be completed",
            ),
            409,
            "bad_status",
        )
    await _complete(session, check, Actor.of(principal), principal.user_id, now, "host")
    return check


async def mark_no_show(
    session: AsyncSession, principal: Principal, session_id: int, *, now: dt.datetime, reason: str = ""
) -> CheckSession:
    """The coordinator records, after the start, that the enterprise or supplier did not come: the
    session is over, its holds are freed and the project can be booked again."""
    check, parties = await load_session(session, principal, session_id, lock=True)
    if not is_host(principal, check):
        raise Forbidden(Message("只有主持人可以登记缺席", "Only the host can record a no-show"))
    if now < check.starts_at:
        raise DomainError(
            Message("会议开始后才能登记缺席", "A no-show can be recorded only after the session starts"),
            409,
            "too_early",
        )
    check_move(check.status, SessionStatus.NO_SHOW)
    check.status = SessionStatus.NO_SHOW
    check.ended_at, check.ended_by = now, principal.user_id
    await session.execute(delete(Booking).where(Booking.session_id == check.id))
    await session.flush()
    await release_project(session, parties.project)
    await session.flush()
    await record(
        session,
        Actor.of(principal),
        "session.no_show",
        f"session:{check.id}",
        at=now,
        city_code=check.city_code,
        details={"project": parties.project.code, "reason": reason},
    )
    return check
