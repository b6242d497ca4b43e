"""Who each notice goes to, from the session's rows, and whether anyone of the enterprise or the
supplier has entered its room (the no-show check)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from remote_check.accounts.models import Role, User
from remote_check.audit.models import AuditEntry
from remote_check.experts.models import Expert
from remote_check.programme.cities import BY_CODE
from remote_check.settings import Settings
from scheduler.models import CheckSession, Guest, GuestKind, PanelSeat
from scheduler.notify.models import Channel, Kind
from scheduler.notify.outbox import Recipient, sent_invitations

TO_PEOPLE = (Kind.INVITATION, Kind.CONNECTIVITY, Kind.REMINDER)
TO_ROBOT = (Kind.INVITATION, Kind.REMINDER, Kind.NO_SHOW)
PAGE = Recipient("page", Channel.PAGE, "", "")


async def _guests(session: AsyncSession, check: CheckSession) -> list[Recipient]:
    rows = await session.scalars(
        select(Guest).where(Guest.session_id == check.id, Guest.revoked.is_(False), Guest.email != "")
    )
    return [Recipient(f"guest:{g.id}", Channel.EMAIL, g.email, g.name) for g in rows.all()]


async def _experts(session: AsyncSession, check: CheckSession) -> list[Recipient]:
    rows = await session.execute(
        select(Expert.id, Expert.name, User.email)
        .join(PanelSeat, PanelSeat.expert_id == Expert.id)
        .join(User, User.id == Expert.user_id)
        .where(PanelSeat.session_id == check.id, User.email != "", User.active.is_(True))
        .order_by(PanelSeat.id)
    )
    return [Recipient(f"expert:{i}", Channel.EMAIL, email, name) for i, name, email in rows.all()]


async def _staff(session: AsyncSession, check: CheckSession, coordinators: bool) -> list[Recipient]:
    """The session's host, and (for the no-show check) the city's coordinators."""
    who = User.id == check.host_user_id
    if coordinators:
        who = who | ((User.role == Role.CITY_COORDINATOR) & (User.city_code == check.city_code))
    rows = await session.scalars(
        select(User).where(who, User.email != "", User.active.is_(True)).order_by(User.id)
    )
    return [Recipient(f"user:{u.id}", Channel.EMAIL, u.email, u.display_name) for u in rows.all()]


def _one_per_address(found: list[Recipient]) -> list[Recipient]:
    seen: set[tuple[Channel, str]] = set()
    out: list[Recipient] = []
    for r in found:
        mark = (r.channel, r.address.casefold())
        if r.channel == Channel.PAGE or mark not in seen:
            seen.add(mark)
            out.append(r)
    return out


async def recipients(
    session: AsyncSession, kind: Kind, check: CheckSession, settings: Settings
) -> list[Recipient]:
    """Everyone ``kind`` of ``check`` goes to by a configured channel; the cancellation goes to
    whoever an invitation reached."""
    if kind == Kind.CANCEL:
        return await sent_invitations(session, check.id)
    found: list[Recipient] = []
    if kind == Kind.NO_SHOW:
        found.append(PAGE)
    if settings.smtp_host:
        if kind in TO_PEOPLE:
            found += await _guests(session, check) + await _experts(session, check)
        if kind in (Kind.INVITATION, Kind.REMINDER, Kind.NO_SHOW):
            found += await _staff(session, check, coordinators=kind == Kind.NO_SHOW)
    if kind in TO_ROBOT and settings.wecom_webhooks.get(check.city_code):
        city = BY_CODE.get(check.city_code)
        found.append(
            Recipient(
                f"wecom:{check.city_code}", Channel.WECOM, check.city_code, city.name_zh if city else ""
            )
        )
    return _one_per_address(found)


async def someone_came(session: AsyncSession, check: CheckSession) -> bool:
    """Whether a guest of the enterprise or the supplier has entered the session's room."""
    guests = (
        await session.scalars(
            select(Guest.id).where(
                Guest.session_id == check.id, Guest.kind.in_((GuestKind.ENTERPRISE, GuestKind.SUPPLIER))
            )
        )
    ).all()
    if not guests:
        return False
    entered = await session.scalar(
        select(AuditEntry.seq)
        .where(
            AuditEntry.action == "room.join",
            AuditEntry.target == f"session:{check.id}",
            AuditEntry.actor.in_([f"guest:{g}" for g in guests]),
        )
        .limit(1)
    )
    return entered is not None
