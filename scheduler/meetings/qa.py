"""The meeting's moderated text Q&A: attendees post, the host shows or hides, a speaker marks a
question answered, attendees see only the shown ones (the host and speakers see all)."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from remote_check.accounts.access import Permission, Principal, allowed
from remote_check.audit.service import Actor, record
from remote_check.errors import Forbidden, Message, NotFound, invalid
from scheduler.meetings.models import MeetingSpeaker, Nomination, Question
from scheduler.meetings.service import get_meeting

MAX_LENGTH = 500


class Viewer(enum.StrEnum):
    ATTENDEE = "attendee"
    MODERATOR = "moderator"  # the host (the province) or a speaker


def visible(questions: list[Question], viewer: Viewer) -> list[Question]:
    """What ``viewer`` sees: attendees the shown questions only, in the order they were posted."""
    ordered = sorted(questions, key=lambda q: (q.posted_at, q.id))
    return ordered if viewer == Viewer.MODERATOR else [q for q in ordered if q.shown]


async def post(session: AsyncSession, nomination: Nomination, text: str, *, now: dt.datetime) -> Question:
    """An attendee posts a question; it stays hidden until the host shows it."""
    text = text.strip()
    if not text or len(text) > MAX_LENGTH:
        raise invalid(
            f"问题须为 1 到 {MAX_LENGTH} 个字", f"A question is 1 to {MAX_LENGTH} characters", field="text"
        )
    await get_meeting(session, nomination.meeting_id)
    question = Question(
        meeting_id=nomination.meeting_id, nomination_id=nomination.id, text=text, posted_at=now
    )
    session.add(question)
    await session.flush()
    return question


async def is_moderator(session: AsyncSession, principal: Principal, meeting_id: int) -> bool:
    """The host (whoever may edit the meeting) or one of its speakers."""
    if allowed(principal, Permission.MEETING_WRITE):
        return True
    speaker = await session.get(MeetingSpeaker, (meeting_id, principal.user_id))
    return speaker is not None


async def _question(session: AsyncSession, question_id: int, meeting_id: int) -> Question:
    question = await session.get(Question, question_id)
    if question is None or question.meeting_id != meeting_id:
        raise NotFound("问题", "Question")
    return question


async def set_shown(
    session: AsyncSession,
    principal: Principal,
    meeting_id: int,
    question_id: int,
    shown: bool,
    *,
    now: dt.datetime,
) -> Question:
    """The host shows a question to everyone, or hides it again."""
    if not allowed(principal, Permission.MEETING_WRITE):
        raise Forbidden(Message("只有主持人可以显示或隐藏问题", "Only the host shows or hides questions"))
    question = await _question(session, question_id, meeting_id)
    question.shown = shown
    await record(
        session,
        Actor.of(principal),
        "meeting.question_show" if shown else "meeting.question_hide",
        f"meeting:{meeting_id}",
        at=now,
        details={"question": question.id},
    )
    return question


async def mark_answered(
    session: AsyncSession, principal: Principal, meeting_id: int, question_id: int, *, now: dt.datetime
) -> Question:
    """A speaker (or the host) marks a question answered."""
    if not await is_moderator(session, principal, meeting_id):
        raise Forbidden(Message("只有主讲人可以标记问题已回答", "Only a speaker marks questions answered"))
    question = await _question(session, question_id, meeting_id)
    if question.answered_at is None:
        question.answered_at, question.answered_by = now, principal.user_id
    return question


async def questions(session: AsyncSession, meeting_id: int, viewer: Viewer) -> list[Question]:
    """The meeting's questions as ``viewer`` sees them."""
    rows = (await session.scalars(select(Question).where(Question.meeting_id == meeting_id))).all()
    return visible(list(rows), viewer)
