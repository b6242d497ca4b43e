"""Holding a time for 5 minutes while the booking form is filled in, inside the caller's transaction.

A hold takes the same resources as the booking would (rows of ``bookings`` owned by the hold), so
for everyone else the time is booked; it lapses by itself when the app's clock passes
``expires_at`` (no timer: every query compares with ``now``). A coordinator holds at most one time
per project: holding again replaces it, and booking the project converts it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import bindparam, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from remote_check.accounts.access import Principal
from remote_check.audit.service import Actor, record
from remote_check.campaigns.models import Campaign, Draw, DrawEntry, DrawStatus
from remote_check.errors import Conflict, Message, NotFound
from remote_check.programme.models import VoucherProject
from scheduler.campaign_rules import campaign_of, check_deadline
from scheduler.lifecycle import ACTIVE
from scheduler.models import CheckSession, Hold
from scheduler.reserve import DEFAULT_BUFFERS, Buffers, Owner, reserve
from scheduler.rules import check_parties, check_times, load_panel, load_parties

HOLD_FOR = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class NewHold:
    project_id: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    panel: Sequence[int]  # expert ids, the lead first


_ACTIVE_SESSION = select(CheckSession.id).where(
    CheckSession.project_id == bindparam("project_id"), CheckSession.status.in_(ACTIVE)
)  # statements on the booking path are built once
_MY_HOLDS = delete(Hold).where(
    Hold.project_id == bindparam("project_id"), Hold.user_id == bindparam("user_id")
)


_CAMPAIGN_ID = (
    select(Draw.campaign_id)
    .join(DrawEntry, DrawEntry.draw_id == Draw.id)
    .where(DrawEntry.project_id == bindparam("project_id"), Draw.status == DrawStatus.PUBLISHED)
    .order_by(Draw.published_at.desc(), Draw.id.desc())
    .limit(1)
    .scalar_subquery()
)
_ACTIVE_AND_CAMPAIGN = (
    select(_ACTIVE_SESSION.limit(1).scalar_subquery(), Campaign)
    .select_from(VoucherProject)
    .outerjoin(Campaign, Campaign.id == _CAMPAIGN_ID)
    .where(VoucherProject.id == bindparam("project_id"))
)


async def refuse_second_session_or_campaign(session: AsyncSession, project_id: int) -> Campaign | None:
    """:func:`refuse_second_session`, then the project's campaign
    (:func:`scheduler.campaign_rules.campaign_of`), in one statement."""
    row = (await session.execute(_ACTIVE_AND_CAMPAIGN, {"project_id": project_id})).one()
    _refuse(row[0])
    campaign: Campaign | None = row[1]
    return campaign


async def refuse_second_session(session: AsyncSession, project_id: int) -> None:
    """Refuse (409) a project that already has a session that is booked or taking place."""
    _refuse(await session.scalar(_ACTIVE_SESSION, {"project_id": project_id}))


def _refuse(active: int | None) -> None:
    if active is not None:
        raise Conflict(
            Message(
                f"该项目已有核查会议 #{active}，请在该会议页面改期，而不是重复预订",
                f"This project already has session #{active}; reschedule it on its page instead",
            ),
        )


async def release_holds(session: AsyncSession, principal: Principal, project_id: int) -> None:
    """Drop ``principal``'s holds on the project; their resources (rows of ``bookings``) go with
    them, by the foreign key's ``ON DELETE CASCADE`` (SQLite: ``PRAGMA foreign_keys=ON``, set by
    :func:`remote_check.database.make_engine` on every connection)."""
    await session.execute(_MY_HOLDS, {"project_id": project_id, "user_id": principal.user_id})


async def hold_time(
    session: AsyncSession,
    principal: Principal,
    new: NewHold,
    *,
    now: dt.datetime,
    buffers: Buffers = DEFAULT_BUFFERS,
) -> Hold:
    """Hold the project's time and panel for :data:`HOLD_FOR`, under the booking's rules (a clash
    is the booking's 409, with the nearest free times)."""
    check_times(new.starts_at, new.ends_at, now)
    parties = await load_parties(session, principal, new.project_id, lock=True)
    experts = await load_panel(session, new.panel, parties)
    check_parties(parties, now)
    await refuse_second_session(session, new.project_id)
    campaign = await campaign_of(session, new.project_id)
    check_deadline(new.ends_at, campaign)
    await release_holds(session, principal, new.project_id)
    project = parties.project
    hold = Hold(
        project_id=project.id,
        city_code=project.city_code,
        user_id=principal.user_id,
        starts_at=new.starts_at,
        ends_at=new.ends_at,
        panel=[e.id for e in experts],
        expires_at=now + HOLD_FOR,
        created_at=now,
    )
    session.add(hold)
    await session.flush()
    await reserve(
        session,
        principal,
        starts_at=new.starts_at,
        ends_at=new.ends_at,
        owner=Owner(hold_id=hold.id),
        parties=parties,
        experts=experts,
        buffers=buffers,
        now=now,
        deadline=campaign.deadline if campaign else None,
    )
    await record(
        session,
        Actor.of(principal),
        "session.hold",
        f"project:{project.id}",
        at=now,
        city_code=project.city_code,
        details={
            "project": project.code,
            "starts_at": new.starts_at.isoformat(),
            "ends_at": new.ends_at.isoformat(),
            "panel": hold.panel,
            "expires_at": hold.expires_at.isoformat(),
        },
    )
    return hold


async def cancel_hold(session: AsyncSession, principal: Principal, hold_id: int, *, now: dt.datetime) -> None:
    """Let go of one's own hold before it lapses; anyone else's hold is 404, like an unknown one."""
    hold = await session.scalar(select(Hold).where(Hold.id == hold_id, Hold.user_id == principal.user_id))
    if hold is None:
        raise NotFound("暂留", "Hold")
    await release_holds(session, principal, hold.project_id)
    await record(
        session,
        Actor.of(principal),
        "session.hold_release",
        f"project:{hold.project_id}",
        at=now,
        city_code=hold.city_code,
        details={"starts_at": hold.starts_at.isoformat()},
    )
