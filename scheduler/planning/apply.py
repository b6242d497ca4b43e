"""Applying a plan: every planned check booked through the booking service, in the caller's ONE
transaction. The booking rules stay the guard: if anything changed since the plan was made and one
booking is refused, the error names that check and the caller's transaction books nothing."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from remote_check.accounts.access import Principal
from remote_check.accounts.models import Role, User
from remote_check.audit.service import Actor, record
from remote_check.clock import format_local
from remote_check.errors import DomainError, Message
from scheduler.models import CheckSession
from scheduler.planning.plan import Plan
from scheduler.planning.service import Source, db_id
from scheduler.service import NewSession, book_session


async def _hosts(session: AsyncSession, principal: Principal, cities: set[str]) -> dict[str, int]:
    """Each city's host: the booker if they coordinate it, else its first active coordinator."""
    rows = (
        await session.execute(
            select(User.city_code, User.id)
            .where(User.role == Role.CITY_COORDINATOR, User.active.is_(True), User.city_code.in_(cities))
            .order_by(User.id)
        )
    ).all()
    hosts: dict[str, int] = {}
    for city, user_id in rows:
        if city is not None:
            hosts.setdefault(city, user_id)
    if principal.role == Role.CITY_COORDINATOR and principal.city_code:
        hosts[principal.city_code] = principal.user_id
    return hosts


async def apply_plan(
    session: AsyncSession, principal: Principal, source: Source, plan: Plan, *, now: dt.datetime
) -> list[CheckSession]:
    """Book every check of ``plan`` that is not already fixed; raise (409 ``plan_clash``) naming the
    first check the booking rules refuse, so that the caller's transaction books nothing."""
    fixed = {f.project for f in source.instance.fixed}
    working = set(source.instance.days)
    length = dt.timedelta(minutes=source.instance.session_minutes)
    # In time order: taking the first free room (and supplier team) of each check in turn then
    # needs no more rooms than the plan has checks at once.
    planned = sorted((s for s in plan.sessions if s.project not in fixed), key=lambda s: (s.start, s.project))
    hosts = await _hosts(session, principal, {source.projects[s.project].city_code for s in planned})
    booked: list[CheckSession] = []
    for planned_check in planned:
        ref = source.projects[planned_check.project]
        new = NewSession(
            ref.id,
            planned_check.start,
            planned_check.start + length,
            [db_id(e) for e in planned_check.experts],
            hosts.get(ref.city_code),
            # the plan uses official working days only: a swapped working Saturday (调休) is one
            confirmed_off_hours=planned_check.start.astimezone(source.instance.timezone).date() in working,
        )
        try:
            check = await book_session(session, principal, new, now=now)
        except DomainError as exc:
            when = format_local(planned_check.start)
            raise DomainError(
                Message(
                    f"项目 {ref.code}（{when}）无法预订，未预订任何核查：{exc.message.zh}",
                    f"Project {ref.code} ({when}) could not be booked, so nothing was: {exc.message.en}",
                ),
                409,
                "plan_clash",
                [{"project": ref.code, "start": when, "reason": exc.code}, *exc.details],
            ) from None
        if check.campaign_id is None:
            check.campaign_id = ref.campaign_id
        booked.append(check)
    await session.flush()
    await record(
        session,
        Actor.of(principal),
        "plan.apply",
        f"plan:{source.city_code or 'province'}",
        at=now,
        city_code=source.city_code,
        details={
            "sessions": [c.id for c in booked],
            "unplaced": [source.projects[u.project].code for u in plan.unscheduled],
        },
    )
    return booked
