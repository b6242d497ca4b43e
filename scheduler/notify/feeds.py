"""An expert's private calendar feed: ``/calendar/<token>.ics``, their checks as an iCalendar
subscription. Only the SHA-256 of the token is stored; a new token revokes the old one, and a
revoked token answers 404 like one that never existed."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from remote_check.audit.service import Actor, record
from remote_check.errors import NotFound
from remote_check.experts.models import Expert
from remote_check.programme.models import VoucherProject
from scheduler.models import CheckSession, PanelSeat, SessionStatus
from scheduler.notify import ics
from scheduler.notify.models import CalendarFeed

SHOWN = (
    SessionStatus.BOOKED,
    SessionStatus.IN_PROGRESS,
    SessionStatus.INTERRUPTED,
    SessionStatus.DONE,
    SessionStatus.CANCELLED,
)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


async def issue_feed(session: AsyncSession, actor: Actor, expert_id: int, *, now: dt.datetime) -> str:
    """A new feed token for the expert (shown once); every earlier one stops working."""
    await revoke_feeds(session, actor, expert_id, now=now, audit=False)
    token = secrets.token_urlsafe(32)
    session.add(CalendarFeed(expert_id=expert_id, token_hash=_hash(token), created_at=now))
    await session.flush()
    await record(session, actor, "calendar.issue", f"expert:{expert_id}", at=now)
    return token


async def revoke_feeds(
    session: AsyncSession, actor: Actor, expert_id: int, *, now: dt.datetime, audit: bool = True
) -> None:
    """Withdraw the expert's feed: its address answers 404 from now on."""
    await session.execute(
        update(CalendarFeed)
        .where(CalendarFeed.expert_id == expert_id, CalendarFeed.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    if audit:
        await record(session, actor, "calendar.revoke", f"expert:{expert_id}", at=now)


async def feed_of(session: AsyncSession, token: str, *, base: str, now: dt.datetime) -> bytes:
    """The calendar of the expert whose live token this is; 404 for a revoked or unknown one."""
    expert = await session.scalar(
        select(Expert)
        .join(CalendarFeed, CalendarFeed.expert_id == Expert.id)
        .where(CalendarFeed.token_hash == _hash(token), CalendarFeed.revoked_at.is_(None))
    )
    if expert is None:
        raise NotFound("日历", "Calendar")
    rows = await session.execute(
        select(CheckSession, VoucherProject.code)
        .join(PanelSeat, PanelSeat.session_id == CheckSession.id)
        .join(VoucherProject, VoucherProject.id == CheckSession.project_id)
        .where(PanelSeat.expert_id == expert.id, CheckSession.status.in_(SHOWN))
        .order_by(CheckSession.starts_at)
    )
    events = [
        ics.EventFacts(
            session_id=check.id,
            version=check.booking_version,
            starts_at=check.starts_at,
            ends_at=check.ends_at,
            summary=f"远程核查 Remote check {code}",
            description=f"核查会议 Check session #{check.id}",
            url=f"{base}/sessions/{check.id}",
            cancelled=check.status == SessionStatus.CANCELLED,
        )
        for check, code in rows.all()
    ]
    return ics.feed(events, name=f"远程核查 {expert.name}", stamp=now)
