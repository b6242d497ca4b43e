"""The meeting's moderated text Q&A on both databases, and its pure visibility rule."""

from __future__ import annotations

import datetime as dt

import pytest

from remote_check.clock import FixedClock
from remote_check.database import transaction
from remote_check.errors import DomainError, Forbidden
from scheduler.meetings import qa
from scheduler.meetings.models import Nomination, Question
from tests.conftest import Database
from tests.meeting_world import outsider, world


def test_attendees_see_only_shown_questions_in_posting_order() -> None:
    t = dt.datetime(2020, 4, 15, 1, 0, tzinfo=dt.UTC)
    later = Question(id=2, text="b", posted_at=t + dt.timedelta(minutes=1), shown=True)
    hidden = Question(id=3, text="c", posted_at=t + dt.timedelta(minutes=2), shown=False)
    first = Question(id=1, text="a", posted_at=t, shown=True)
    everything = [later, hidden, first]
    assert [q.id for q in qa.visible(everything, qa.Viewer.ATTENDEE)] == [1, 2]
    assert [q.id for q in qa.visible(everything, qa.Viewer.MODERATOR)] == [1, 2, 3]


async def test_post_show_hide_and_answer(db: Database, clock: FixedClock) -> None:
    w = await world(db, clock.now())
    nomination_id = await outsider(db, w, 1, clock.now())
    async with transaction(db.factory) as session:
        nominee = await session.get(Nomination, nomination_id)
        assert nominee is not None
        asked = await qa.post(session, nominee, "  抽查时是否需要现场查看服务器？ ", now=clock.now())
        other = await qa.post(session, nominee, "第二个问题", now=clock.now() + dt.timedelta(seconds=5))
    async with db.factory() as session:
        assert await qa.questions(session, w.meeting_id, qa.Viewer.ATTENDEE) == []
        assert len(await qa.questions(session, w.meeting_id, qa.Viewer.MODERATOR)) == 2
    async with transaction(db.factory) as session:
        await qa.set_shown(session, w.province, w.meeting_id, asked.id, True, now=clock.now())
        await qa.set_shown(session, w.province, w.meeting_id, other.id, True, now=clock.now())
        await qa.set_shown(session, w.province, w.meeting_id, other.id, False, now=clock.now())
    with pytest.raises(Forbidden):  # a speaker answers, but only the host moderates
        async with transaction(db.factory) as session:
            await qa.set_shown(session, w.speaker, w.meeting_id, other.id, True, now=clock.now())
    with pytest.raises(Forbidden):  # an expert who is not a speaker
        async with transaction(db.factory) as session:
            await qa.mark_answered(session, w.expert, w.meeting_id, asked.id, now=clock.now())
    async with transaction(db.factory) as session:
        await qa.mark_answered(session, w.speaker, w.meeting_id, asked.id, now=clock.now())
    async with db.factory() as session:
        seen = await qa.questions(session, w.meeting_id, qa.Viewer.ATTENDEE)
    assert [(q.text, q.answered_by) for q in seen] == [("抽查时是否需要现场查看服务器？", w.speaker.user_id)]


async def test_an_empty_or_overlong_question_changes_nothing(db: Database, clock: FixedClock) -> None:
    w = await world(db, clock.now())
    nomination_id = await outsider(db, w, 1, clock.now())
    for text in ("   ", "问" * 501):
        async with transaction(db.factory) as session:
            nominee = await session.get(Nomination, nomination_id)
            assert nominee is not None
            with pytest.raises(DomainError) as refused:
                await qa.post(session, nominee, text, now=clock.now())
        assert refused.value.status == 422
    async with db.factory() as session:
        assert await qa.questions(session, w.meeting_id, qa.Viewer.MODERATOR) == []
