"""Province meetings: create and edit (the province), nominate (a city's coordinator, within the
city's quota), personal links, the signal test, attendance and the per-city overview.

Every function runs inside the caller's transaction. The quota is race-safe: a nomination first
locks the meeting's row (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite transactions are
``BEGIN IMMEDIATE``), so two concurrent nominations of one city are counted one after the other.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from remote_check.accounts.access import Permission, Principal, require, require_city, sees_city
from remote_check.accounts.models import User
from remote_check.audit.service import Actor, record
from remote_check.clock import SHANGHAI
from remote_check.errors import Conflict, Message, NotFound, invalid
from remote_check.programme.models import City
from scheduler.connectivity import Measured, measured_columns
from scheduler.invitations import new_nonce
from scheduler.meetings.models import (
    Attendance,
    Meeting,
    MeetingKind,
    MeetingSpeaker,
    Nomination,
    NomineeRole,
    SignalTest,
)

DEFAULT_QUOTA = 12
JOIN_DEADLINE_HOUR = 17  # the day before, Asia/Shanghai
TEST_HOUR = 18  # the signal test, the evening before
TEST_LENGTH = dt.timedelta(hours=1)


@dataclass(frozen=True)
class MeetingFields:
    """What the province sets; unset times get the notice's defaults (see :func:`with_defaults`)."""

    title: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    kind: MeetingKind = MeetingKind.TRAINING
    city_quota: int = DEFAULT_QUOTA
    join_deadline: dt.datetime | None = None
    test_starts_at: dt.datetime | None = None
    test_ends_at: dt.datetime | None = None
    speaker_ids: tuple[int, ...] = field(default=())


def _day_before_at(starts_at: dt.datetime, hour: int) -> dt.datetime:
    day = starts_at.astimezone(SHANGHAI).date() - dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(hour), tzinfo=SHANGHAI).astimezone(dt.UTC)


def with_defaults(fields: MeetingFields) -> tuple[dt.datetime, dt.datetime, dt.datetime]:
    """The join deadline (17:00 the day before), the signal test's start (18:00 that evening) and end."""
    for name in ("starts_at", "ends_at", "join_deadline", "test_starts_at", "test_ends_at"):
        value = getattr(fields, name)
        if value is not None and not 2000 <= value.year <= 2100:
            raise invalid("时间应在 2000 至 2100 年之间", "A time is between 2000 and 2100", field=name)
    deadline = fields.join_deadline or _day_before_at(fields.starts_at, JOIN_DEADLINE_HOUR)
    test_start = fields.test_starts_at or _day_before_at(fields.starts_at, TEST_HOUR)
    test_end = fields.test_ends_at or test_start + TEST_LENGTH
    return deadline, test_start, test_end


def _check(
    fields: MeetingFields, deadline: dt.datetime, test_start: dt.datetime, test_end: dt.datetime
) -> None:
    if not fields.title.strip():
        raise invalid("请填写会议名称", "Give the meeting a title", field="title")
    if fields.ends_at <= fields.starts_at:
        raise invalid("会议结束时间须晚于开始时间", "The meeting must end after it starts", field="ends_at")
    if test_end <= test_start or test_end > fields.starts_at:
        raise invalid(
            "信号测试须在会议开始前结束",
            "The signal test must end before the meeting starts",
            field="test_ends_at",
        )
    if deadline > fields.starts_at:
        raise invalid(
            "报名截止时间须早于会议开始",
            "The join deadline must be before the meeting",
            field="join_deadline",
        )
    if not 1 <= fields.city_quota <= 100:
        raise invalid("每市名额须在 1 到 100 之间", "The per-city quota is 1 to 100", field="city_quota")


async def _set_speakers(session: AsyncSession, meeting: Meeting, speaker_ids: tuple[int, ...]) -> None:
    found = set((await session.scalars(select(User.id).where(User.id.in_(speaker_ids)))).all())
    if missing := set(speaker_ids) - found:
        raise invalid(
            "主讲人账号不存在", "A speaker's account does not exist", field=f"speakers:{min(missing)}"
        )
    current = (
        await session.scalars(select(MeetingSpeaker).where(MeetingSpeaker.meeting_id == meeting.id))
    ).all()
    for row in current:
        if row.user_id not in found:
            await session.delete(row)
    for user_id in found - {row.user_id for row in current}:
        session.add(MeetingSpeaker(meeting_id=meeting.id, user_id=user_id))


async def create_meeting(
    session: AsyncSession, principal: Principal, fields: MeetingFields, *, now: dt.datetime
) -> Meeting:
    """The province creates a meeting (and its signal test the evening before)."""
    require(principal, Permission.MEETING_WRITE)
    deadline, test_start, test_end = with_defaults(fields)
    _check(fields, deadline, test_start, test_end)
    meeting = Meeting(
        title=fields.title.strip(),
        kind=fields.kind,
        starts_at=fields.starts_at,
        ends_at=fields.ends_at,
        join_deadline=deadline,
        test_starts_at=test_start,
        test_ends_at=test_end,
        city_quota=fields.city_quota,
        created_at=now,
        created_by=principal.user_id,
    )
    session.add(meeting)
    await session.flush()
    await _set_speakers(session, meeting, fields.speaker_ids)
    await _record_fields(session, principal, meeting, "meeting.create", now)
    return meeting


async def _record_fields(
    session: AsyncSession, principal: Principal, meeting: Meeting, action: str, now: dt.datetime
) -> None:
    details = {
        "title": meeting.title,
        "starts_at": meeting.starts_at.isoformat(),
        "quota": meeting.city_quota,
    }
    await record(session, Actor.of(principal), action, f"meeting:{meeting.id}", at=now, details=details)


async def get_meeting(session: AsyncSession, meeting_id: int, *, lock: bool = False) -> Meeting:
    """The meeting (any signed-in role of the province or a city may see a province meeting)."""
    query = select(Meeting).where(Meeting.id == meeting_id)
    if lock:
        query = query.with_for_update()
    meeting = await session.scalar(query)
    if meeting is None:
        raise NotFound("会议", "Meeting")
    return meeting


async def edit_meeting(
    session: AsyncSession, principal: Principal, meeting_id: int, fields: MeetingFields, *, now: dt.datetime
) -> Meeting:
    """The province changes a meeting; the quota cannot drop below a city's nominations."""
    require(principal, Permission.MEETING_WRITE)
    meeting = await get_meeting(session, meeting_id, lock=True)
    deadline, test_start, test_end = with_defaults(fields)
    _check(fields, deadline, test_start, test_end)
    counts = await session.scalars(
        select(func.count()).where(Nomination.meeting_id == meeting.id).group_by(Nomination.city_code)
    )
    most = max(counts.all(), default=0)
    if fields.city_quota < most:
        raise Conflict(
            Message(
                f"已有城市报名 {most} 人，名额不能少于此数",
                f"A city has already nominated {most}; the quota cannot be lower",
            )
        )
    before = (meeting.starts_at, meeting.ends_at, meeting.test_starts_at, meeting.test_ends_at)
    if before != (fields.starts_at, fields.ends_at, test_start, test_end):
        meeting.version += 1  # the invitations and the signal test's notice go out again
    meeting.title = fields.title.strip()
    meeting.kind = fields.kind
    meeting.starts_at, meeting.ends_at = fields.starts_at, fields.ends_at
    meeting.join_deadline, meeting.test_starts_at, meeting.test_ends_at = deadline, test_start, test_end
    meeting.city_quota = fields.city_quota
    await _set_speakers(session, meeting, fields.speaker_ids)
    await _record_fields(session, principal, meeting, "meeting.edit", now)
    return meeting


async def cancel_meeting(
    session: AsyncSession, principal: Principal, meeting_id: int, *, now: dt.datetime
) -> Meeting:
    """The province cancels a meeting: its links stop working, its pending notices are dropped."""
    require(principal, Permission.MEETING_WRITE)
    meeting = await get_meeting(session, meeting_id, lock=True)
    if not meeting.cancelled:
        meeting.cancelled = True
        await record(session, Actor.of(principal), "meeting.cancel", f"meeting:{meeting.id}", at=now)
    return meeting


async def speaker_ids(session: AsyncSession, meeting_id: int) -> list[int]:
    rows = await session.scalars(
        select(MeetingSpeaker.user_id)
        .where(MeetingSpeaker.meeting_id == meeting_id)
        .order_by(MeetingSpeaker.user_id)
    )
    return list(rows.all())


@dataclass(frozen=True)
class Nominee:
    """An existing user (``user_id``) or a named outsider (单位 + 姓名, e-mail)."""

    role: NomineeRole
    user_id: int | None = None
    organisation: str = ""
    name: str = ""
    email: str = ""


def quota_refusal(quota: int) -> Conflict:
    return Conflict(
        Message(
            f"本市报名人数已达上限（{quota} 人），不能再增加。如需换人，请先撤回一名已报名人员。",
            f"Your city has reached its quota ({quota} people); no one more can be nominated. "
            "To change someone, withdraw a nomination first.",
        )
    )


async def nominate(
    session: AsyncSession,
    principal: Principal,
    meeting_id: int,
    city_code: str,
    nominee: Nominee,
    *,
    now: dt.datetime,
) -> Nomination:
    """A city's coordinator (or the province) nominates one person; refused past the quota."""
    require(principal, Permission.MEETING_NOMINATE)
    require_city(principal, city_code)
    if await session.get(City, city_code) is None:
        raise NotFound("城市", "City")
    meeting = await get_meeting(session, meeting_id, lock=True)  # serialises the count below
    if meeting.cancelled:
        raise Conflict(Message("该会议已取消", "This meeting has been cancelled"))
    if now >= meeting.join_deadline:
        raise Conflict(Message("报名已截止", "Nominations for this meeting have closed"))
    count = await session.scalar(
        select(func.count()).where(Nomination.meeting_id == meeting.id, Nomination.city_code == city_code)
    )
    if (count or 0) >= meeting.city_quota:
        raise quota_refusal(meeting.city_quota)
    if nominee.user_id is not None:
        user = await session.get(User, nominee.user_id)
        if user is None or not user.active:
            raise invalid("该账号不存在", "No such account", field="user_id")
        taken = await session.scalar(
            select(Nomination.id).where(Nomination.meeting_id == meeting.id, Nomination.user_id == user.id)
        )
        if taken is not None:
            raise Conflict(Message("此人已报名本会议", "This person is already nominated for this meeting"))
        organisation, name, email = user.organisation or "", user.display_name, user.email
    else:
        organisation, name, email = nominee.organisation.strip(), nominee.name.strip(), nominee.email.strip()
        if not organisation or not name:
            raise invalid("请填写单位和姓名", "Give the person's organisation and name", field="name")
    if email and "@" not in email:
        raise invalid("电子邮箱格式不正确", "The e-mail address is not valid", field="email")
    row = Nomination(
        meeting_id=meeting.id,
        city_code=city_code,
        user_id=nominee.user_id,
        organisation=organisation[:200],
        name=name[:100],
        email=email[:200],
        role=nominee.role,
        nominated_by=principal.user_id,
        nominated_at=now,
        link_nonce=new_nonce(),
    )
    session.add(row)
    await session.flush()
    await record(
        session,
        Actor.of(principal),
        "meeting.nominate",
        f"meeting:{meeting.id}",
        at=now,
        city_code=city_code,
        details={"nomination": row.id, "name": row.name, "role": row.role.value},
    )
    return row


async def withdraw(
    session: AsyncSession, principal: Principal, nomination_id: int, *, now: dt.datetime
) -> None:
    """Withdraw a nomination (its link stops working); 404 for another city's."""
    require(principal, Permission.MEETING_NOMINATE)
    row = await session.get(Nomination, nomination_id)
    if row is None or not sees_city(principal, row.city_code):
        raise NotFound("报名记录", "Nomination")
    await get_meeting(session, row.meeting_id, lock=True)
    await record(
        session,
        Actor.of(principal),
        "meeting.withdraw",
        f"meeting:{row.meeting_id}",
        at=now,
        city_code=row.city_code,
        details={"nomination": row.id, "name": row.name},
    )
    await session.delete(row)


# -- signal test and attendance ---------------------------------------------------------------


async def record_signal_test(
    session: AsyncSession, nomination: Nomination, measured: Measured, *, now: dt.datetime
) -> SignalTest:
    """Store what the nominee's browser measured; the verdict is the connectivity test's."""
    row = SignalTest(nomination_id=nomination.id, at=now, **measured_columns(measured))
    session.add(row)
    await session.flush()
    await record(
        session,
        Actor(f"nominee:{nomination.id}", nomination.city_code),
        "meeting.signal_test",
        f"meeting:{nomination.meeting_id}",
        at=now,
        city_code=nomination.city_code,
        details={
            "test": row.id,
            "passed": row.passed,
            "fps": f"{row.fps:.1f}",
            "bitrate_kbps": row.bitrate_kbps,
            "rtt_ms": row.rtt_ms,
        },
    )
    return row


async def join(session: AsyncSession, nomination: Nomination, *, now: dt.datetime) -> Attendance:
    """The nominee enters the meeting (an open stay already running is kept)."""
    open_stay = await session.scalar(
        select(Attendance).where(Attendance.nomination_id == nomination.id, Attendance.left_at.is_(None))
    )
    if open_stay is not None:
        return open_stay
    stay = Attendance(nomination_id=nomination.id, joined_at=now)
    session.add(stay)
    await session.flush()
    return stay


async def leave(session: AsyncSession, nomination: Nomination, *, now: dt.datetime) -> None:
    """The nominee leaves: their open stay ends now."""
    stays = await session.scalars(
        select(Attendance).where(Attendance.nomination_id == nomination.id, Attendance.left_at.is_(None))
    )
    for stay in stays:
        stay.left_at = max(now, stay.joined_at)
    await session.flush()
