"""A nominee's personal link: signed like a guest's (:mod:`scheduler.invitations`, with the
meeting links' own key), valid until the meeting's end plus the grace period, revoked when the
nomination is withdrawn."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from scheduler.invitations import (
    MEETING_CONTEXT,
    Invitation,
    InvitationRefused,
    Refusal,
    check_expiry,
    expiry_for,
    sign,
    verify,
)
from scheduler.meetings.models import Meeting, Nomination
from scheduler.meetings.service import get_meeting


def link_path(nomination: Nomination, secret: bytes) -> str:
    """The nominee's personal landing page: ``/m/<token>``, signed with the meeting links' own key."""
    token = sign(
        Invitation(nomination.id, nomination.meeting_id, nomination.link_nonce),
        secret,
        context=MEETING_CONTEXT,
    )
    return f"/m/{token}"


def link_expiry(meeting: Meeting, grace_hours: int) -> dt.datetime:
    return expiry_for(meeting.ends_at, grace_hours)


async def open_link(
    session: AsyncSession, token: str, secret: bytes, *, now: dt.datetime, grace_hours: int
) -> tuple[Nomination, Meeting]:
    """The nomination and meeting of a personal link that still opens, else why not (forged,
    withdrawn or renewed, cancelled, expired ``grace_hours`` after the meeting's end)."""
    invitation = verify(token, secret, context=MEETING_CONTEXT)
    row = await session.get(Nomination, invitation.guest_id)
    if row is None or row.meeting_id != invitation.session_id or row.link_nonce != invitation.nonce:
        raise InvitationRefused(Refusal.REVOKED)
    meeting = await get_meeting(session, row.meeting_id)
    if meeting.cancelled:
        raise InvitationRefused(Refusal.CANCELLED)
    check_expiry(meeting.ends_at, grace_hours, now=now)
    return row, meeting
