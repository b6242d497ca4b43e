"""A province meeting's notices, derived from its rows like a session's (:mod:`.plan`) and sent
through the same outbox: the invitation with the personal link (to each nominee, from their
nomination until the start), the signal-test invitation (from the join deadline until the test's
end; to the nominees and the city's WeCom robot) and the reminder to those who have not tested
(from the test's end, for ``grace``, or until the start).

Personal links are never stored in the outbox: they are composed when a row is sent, from the
nomination as it then stands (a withdrawn nomination's row is obsolete).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from remote_check.clock import format_local
from scheduler.meetings.links import link_path
from scheduler.meetings.models import Meeting, Nomination, SignalTest
from scheduler.notify import ics
from scheduler.notify.messages import Composed
from scheduler.notify.models import Channel, Kind, OutboxMessage
from scheduler.notify.outbox import Recipient


@dataclass(frozen=True)
class MeetingItem:
    """One notice of one meeting, due over ``[at, until)``."""

    kind: Kind
    meeting_id: int
    at: dt.datetime
    until: dt.datetime

    def due(self, now: dt.datetime) -> bool:
        return self.at <= now < self.until


def meeting_items(meeting: Meeting, grace: dt.timedelta) -> list[MeetingItem]:
    """Every notice ``meeting`` needs, due yet or not (none for a cancelled meeting)."""
    if meeting.cancelled:
        return []
    mid, start = meeting.id, meeting.starts_at
    test_invite_at = min(meeting.join_deadline, meeting.test_starts_at)
    return [
        MeetingItem(Kind.MEETING_INVITATION, mid, meeting.created_at, start),
        MeetingItem(Kind.MEETING_TEST, mid, test_invite_at, meeting.test_ends_at),
        MeetingItem(
            Kind.MEETING_TEST_REMINDER, mid, meeting.test_ends_at, min(meeting.test_ends_at + grace, start)
        ),
    ]


async def _untested(session: AsyncSession, nominations: list[Nomination]) -> list[Nomination]:
    ids = [n.id for n in nominations]
    tested = set(
        (
            await session.scalars(select(SignalTest.nomination_id).where(SignalTest.nomination_id.in_(ids)))
        ).all()
    )
    return [n for n in nominations if n.id not in tested]


async def meeting_recipients(session: AsyncSession, kind: Kind, meeting: Meeting) -> list[Recipient]:
    """Who ``kind`` of ``meeting`` goes to now: nominees with an e-mail address; for the signal test
    and its reminder also the robot of each city concerned (no personal link goes to a group)."""
    nominations = list(
        (await session.scalars(select(Nomination).where(Nomination.meeting_id == meeting.id))).all()
    )
    if kind == Kind.MEETING_TEST_REMINDER:
        nominations = await _untested(session, nominations)
    people = [
        Recipient(f"nominee:{n.id}", Channel.EMAIL, n.email, n.name, n.city_code)
        for n in nominations
        if n.email
    ]
    if kind == Kind.MEETING_INVITATION:
        return people
    cities = sorted({n.city_code for n in nominations})
    return people + [Recipient(f"wecom:{c}", Channel.WECOM, c, c, c) for c in cities]


class NoLongerTrue(Exception):
    """The meeting was cancelled, the nomination withdrawn, or the nominee has tested since."""


@dataclass(frozen=True)
class Prepared:
    """What one meeting row sends: the words, the link shown (with its QR code), the calendar entry."""

    composed: Composed
    link: str
    calendar: ics.EventFacts | None


HEAD = {
    Kind.MEETING_INVITATION: ("省级会议邀请", "Invitation to a province meeting"),
    Kind.MEETING_TEST: ("会前信号测试", "The signal test before the meeting"),
    Kind.MEETING_TEST_REMINDER: ("您尚未完成信号测试", "You have not tested your connection yet"),
}


def compose_meeting(kind: Kind, meeting: Meeting, *, name: str, link: str, untested: int = 0) -> Composed:
    """The words of a meeting notice (Chinese first); ``link`` empty for a city's group."""
    zh_head, en_head = HEAD[kind]
    when = f"{format_local(meeting.starts_at)}–{format_local(meeting.ends_at)[-5:]}"
    test = f"{format_local(meeting.test_starts_at)}–{format_local(meeting.test_ends_at)[-5:]}"
    zh = [f"{name}：您好！" if name else "各位好！", f"会议：{meeting.title}", f"时间：{when}（北京时间）"]
    en = [f"Dear {name}," if name else "Hello,", f"Meeting: {meeting.title}", f"Time: {when} China time"]
    if kind == Kind.MEETING_INVITATION:
        zh.append(
            f"请于 {format_local(meeting.join_deadline)} 前通过您的个人链接完成加入，"
            f"并参加信号测试（{test}）。"
        )
        en.append(
            f"Please join by your personal link before {format_local(meeting.join_deadline)} and "
            f"take the signal test ({test})."
        )
    elif kind == Kind.MEETING_TEST:
        zh.append(f"信号测试时间：{test}。请打开链接测试摄像头、麦克风和网络。")
        en.append(f"The signal test is at {test}. Open the link to test your camera, microphone and network.")
    else:
        zh.append("信号测试已结束，您尚未测试。请在会议开始前打开链接完成测试。")
        en.append("The signal test is over and you have not tested. Please test before the meeting starts.")
    if untested:
        zh.append(f"本市尚有 {untested} 人未完成测试。")
        en.append(f"{untested} people of the city have not tested yet.")
    text = "\n".join([*zh, "", *en, "", *([f"链接 / Link: {link}"] if link else []), ""])
    subject = f"【{zh_head}】{meeting.title} {format_local(meeting.starts_at)} / {en_head}"
    markdown = "\n".join(
        [
            f"**{zh_head}** {en_head}",
            f"> {meeting.title}",
            f"> 时间 Time: {when}",
            f"> 信号测试 Signal test: {test}",
            *([f"> {zh[-1]} {en[-1]}"] if untested else []),
        ]
    )
    return Composed(subject, text, markdown)


async def prepare(session: AsyncSession, row: OutboxMessage, *, secret: bytes, base: str) -> Prepared:
    """Compose ``row`` (a meeting's) as things now stand; :class:`NoLongerTrue` if it is not."""
    assert row.meeting_id is not None
    meeting = await session.get(Meeting, row.meeting_id)
    if meeting is None or meeting.cancelled:
        raise NoLongerTrue("会议已取消 / the meeting was cancelled")
    if row.version != meeting.version:
        raise NoLongerTrue(
            "会议时间已变更，将按新时间通知 / the meeting moved; the new time is notified instead"
        )
    kind = Kind(row.kind)
    if row.channel == Channel.WECOM.value:
        city = [
            n
            for n in (
                await session.scalars(
                    select(Nomination).where(
                        Nomination.meeting_id == meeting.id, Nomination.city_code == row.address
                    )
                )
            ).all()
        ]
        untested = len(await _untested(session, city)) if kind != Kind.MEETING_INVITATION else 0
        return Prepared(compose_meeting(kind, meeting, name="", link="", untested=untested), "", None)
    nomination = await session.get(Nomination, int(row.recipient.partition(":")[2]))
    if nomination is None or nomination.meeting_id != meeting.id:
        raise NoLongerTrue("报名已撤回 / the nomination was withdrawn")
    if kind == Kind.MEETING_TEST_REMINDER and not await _untested(session, [nomination]):
        raise NoLongerTrue("已完成测试 / tested meanwhile")
    link = f"{base}{link_path(nomination, secret)}"
    if kind != Kind.MEETING_INVITATION:
        link += "/test"
    composed = compose_meeting(kind, meeting, name=nomination.name, link=link)
    calendar = None
    if kind == Kind.MEETING_INVITATION:
        calendar = ics.EventFacts(
            session_id=meeting.id,
            version=meeting.version,
            starts_at=meeting.starts_at,
            ends_at=meeting.ends_at,
            summary=meeting.title,
            description=composed.text,
            url=link,
            uid=f"meeting-{meeting.id}@remote-check",
        )
    return Prepared(composed, link, calendar)
