"""Who is nominated, tested and attended, per city: what the province sees for every city and a
coordinator for their own (nothing of another city leaves the database for them)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from remote_check.accounts.access import Permission, Principal, ScopeKind, project_scope, require
from remote_check.clock import format_local
from remote_check.programme.models import City
from scheduler.meetings.models import Attendance, Meeting, Nomination, SignalTest
from scheduler.meetings.service import get_meeting


@dataclass(frozen=True)
class Person:
    """One nominee with their latest signal test (None: not tested yet) and their stays."""

    nomination: Nomination
    test: SignalTest | None
    stays: tuple[Attendance, ...]

    @property
    def attended(self) -> bool:
        return bool(self.stays)


@dataclass(frozen=True)
class CityView:
    code: str
    name_zh: str
    name_en: str
    quota: int
    people: tuple[Person, ...]

    @property
    def tested(self) -> int:
        return sum(1 for p in self.people if p.test is not None)

    @property
    def untested(self) -> tuple[Person, ...]:
        return tuple(p for p in self.people if p.test is None)

    @property
    def attended(self) -> int:
        return sum(1 for p in self.people if p.attended)


async def overview(session: AsyncSession, principal: Principal, meeting_id: int) -> list[CityView]:
    """The cities ``principal`` may see (the province: all 21; a coordinator: their own)."""
    require(principal, Permission.MEETING_NOMINATE)
    meeting = await get_meeting(session, meeting_id)
    scope = project_scope(principal)
    cities_q = select(City).order_by(City.code)
    nominations_q = select(Nomination).where(Nomination.meeting_id == meeting.id)
    if scope.kind != ScopeKind.ALL:
        cities_q = cities_q.where(City.code == scope.city_code)
        nominations_q = nominations_q.where(Nomination.city_code == scope.city_code)
    cities = (await session.scalars(cities_q)).all()
    nominations = (await session.scalars(nominations_q.order_by(Nomination.id))).all()
    ids = [n.id for n in nominations]
    latest: dict[int, SignalTest] = {}
    stays: dict[int, list[Attendance]] = {}
    if ids:
        for test in await session.scalars(
            select(SignalTest).where(SignalTest.nomination_id.in_(ids)).order_by(SignalTest.at, SignalTest.id)
        ):
            latest[test.nomination_id] = test
        for stay in await session.scalars(
            select(Attendance).where(Attendance.nomination_id.in_(ids)).order_by(Attendance.joined_at)
        ):
            stays.setdefault(stay.nomination_id, []).append(stay)
    views = []
    for city in cities:
        people = tuple(
            Person(n, latest.get(n.id), tuple(stays.get(n.id, ())))
            for n in nominations
            if n.city_code == city.code
        )
        views.append(CityView(city.code, city.name_zh, city.name_en, meeting.city_quota, people))
    return views


ATTENDANCE_HEADER = ("城市 City", "单位 Organisation", "姓名 Name", "身份 Role", "进入 From", "离开 To")


def attendance_rows(views: list[CityView], *, now: dt.datetime) -> list[list[str]]:
    """One row per stay (Asia/Shanghai times); a stay still open shows as lasting until ``now``'s
    export, marked "(在会)"; a nominee who never joined gets one row without times."""
    rows: list[list[str]] = []
    for view in views:
        for person in view.people:
            n = person.nomination
            base = [view.name_zh, n.organisation, n.name, n.role.value]
            if not person.stays:
                rows.append([*base, "", ""])
            for stay in person.stays:
                until = (
                    format_local(stay.left_at) if stay.left_at else f"(在会 still in, {format_local(now)})"
                )
                rows.append([*base, format_local(stay.joined_at), until])
    return rows


async def list_meetings(session: AsyncSession, principal: Principal) -> list[Meeting]:
    """Every province meeting, soonest last (the province's and every coordinator's to see)."""
    require(principal, Permission.MEETING_NOMINATE)
    return list((await session.scalars(select(Meeting).order_by(Meeting.starts_at.desc(), Meeting.id))).all())


async def has_tested(session: AsyncSession, nomination_id: int) -> bool:
    """Whether the nominee has taken the signal test (whatever its verdict)."""
    found = await session.scalar(
        select(SignalTest.id).where(SignalTest.nomination_id == nomination_id).limit(1)
    )
    return found is not None
