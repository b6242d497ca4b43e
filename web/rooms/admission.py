"""Who enters a check session's room, and as what: decided by the server, never the browser.

Staff come with their log-in: a province administrator or the session's city coordinator
hosts; an expert on the session's panel is an expert; an auditor or alliance staff member who
may see the session observes. A session outside someone's scope is not found (404), as
everywhere in the app. Guests come with their signed link (``scheduler.invitations``), refused
exactly as the ``/join`` page refuses it; their name is fixed as organisation + name. Every guest
(enterprise, supplier, observer) waits in the room's waiting room until the host admits them or
opens the room to guests; staff enter directly.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from media.moderation import RoomRole
from recordings.paths import session_folder_name
from remote_check.accounts.access import Principal
from remote_check.accounts.models import Role
from remote_check.audit.service import Actor
from remote_check.errors import Forbidden, Message
from scheduler.access import on_panel, session_in_scope
from scheduler.guests import valid_link
from scheduler.invitations import InvitationRefused, Refusal
from scheduler.lifecycle import is_host
from scheduler.models import CheckSession, Guest, GuestKind, SessionStatus
from web.rooms.signalling import Entrant

GUEST_ROLES = {
    GuestKind.ENTERPRISE: RoomRole.ENTERPRISE,
    GuestKind.SUPPLIER: RoomRole.SUPPLIER,
    GuestKind.OBSERVER: RoomRole.OBSERVER,
}


@dataclass(frozen=True)
class Admission:
    """A person let into a session's room: who they are there, and who acts in the audit log."""

    entrant: Entrant
    session: CheckSession
    actor: Actor


def room_id(session_id: int) -> str:
    """The room of a check session: named as its recording's folder, which the room records into."""
    return session_folder_name(session_id)


def guest_name(guest: Guest) -> str:
    """单位+姓名: how a guest is named in the room (the invitation fixes it)."""
    return f"{guest.organisation}·{guest.name}" if guest.organisation else guest.name


def _not_cancelled(check: CheckSession) -> None:
    if check.status == SessionStatus.CANCELLED:
        raise InvitationRefused(Refusal.CANCELLED)


async def admit_staff(session: AsyncSession, principal: Principal, session_id: int) -> Admission:
    """A signed-in user's place in the session's room; 404 outside their scope, 403 for a user
    who sees the session but has no place in its room (an expert not on its panel)."""
    check = await session_in_scope(session, principal, session_id)
    _not_cancelled(check)
    role: RoomRole
    if is_host(principal, check):
        role = RoomRole.HOST
    elif principal.role == Role.EXPERT:
        if not await on_panel(session, principal.expert_id, check.id):
            raise Forbidden(
                Message("您不是本次核查的专家组成员", "You are not on this session's panel of experts")
            )
        role = RoomRole.EXPERT
    elif principal.role in (Role.AUDITOR, Role.ALLIANCE_STAFF):
        role = RoomRole.OBSERVER
    else:  # pragma: no cover - every role is named above
        raise Forbidden(Message("您的角色无权进入会议室", "Your role may not enter the room"))
    entrant = Entrant(principal.ref, principal.display_name, role)
    return Admission(entrant, check, Actor.of(principal))


async def admit_guest(
    session: AsyncSession, token: str, secret: bytes, *, now: dt.datetime, grace_hours: int
) -> Admission:
    """A guest's place in the room by their link; refused (:class:`InvitationRefused`) as the
    landing page refuses it: altered, foreign, revoked, expired, cancelled."""
    _, guest, check = await valid_link(session, token, secret, now=now, grace_hours=grace_hours)
    entrant = Entrant(f"guest:{guest.id}", guest_name(guest), GUEST_ROLES[guest.kind], guest=True)
    return Admission(entrant, check, Actor(f"guest:{guest.id}", check.city_code))
