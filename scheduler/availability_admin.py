"""Entering who serves where and when not (issue 11's hard rules' data), each change audited."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from remote_check.audit.service import Actor, record
from remote_check.clock import format_local
from remote_check.errors import Conflict, Message, invalid
from remote_check.experts.models import Expert, ExpertCity
from remote_check.programme.models import City, CityDayClosed, Enterprise, Unavailability, UnavailableKind
from scheduler.booking import room_resource
from scheduler.models import Booking, Hold

MAX_ROOMS = 100


async def _city(session: AsyncSession, code: str, field: str) -> City:
    city = await session.get(City, code)
    if city is None:
        raise invalid(f"城市代码不存在：{code}", f"Unknown city code: {code}", field=field)
    return city


async def set_expert_cities(
    session: AsyncSession, expert_id: int, cities: Sequence[str], *, actor: Actor, now: dt.datetime
) -> list[str]:
    """Limit an expert to ``cities`` (none: every city again); the cities kept, sorted."""
    if await session.get(Expert, expert_id) is None:
        raise invalid(f"专家不存在：{expert_id}", f"Unknown expert: {expert_id}", field="expert")
    codes = sorted(set(cities))
    for code in codes:
        await _city(session, code, "city")
    await session.execute(delete(ExpertCity).where(ExpertCity.expert_id == expert_id))
    session.add_all(ExpertCity(expert_id=expert_id, city_code=c) for c in codes)
    await session.flush()
    await record(session, actor, "expert.cities", f"expert:{expert_id}", at=now, details={"cities": codes})
    return codes


async def add_unavailability(
    session: AsyncSession,
    kind: UnavailableKind,
    party_id: int,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    reason: str = "",
    *,
    actor: Actor,
    now: dt.datetime,
    city_code: str | None = None,
) -> Unavailability:
    """Mark an expert or an enterprise unavailable from ``starts_at`` to ``ends_at`` (audited, for
    ``city_code`` if given)."""
    model = Expert if kind == UnavailableKind.EXPERT else Enterprise
    if await session.get(model, party_id) is None:
        who_zh = "专家" if kind == UnavailableKind.EXPERT else "企业"
        raise invalid(f"{who_zh}不存在：{party_id}", f"Unknown {kind.value}: {party_id}", field="id")
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise invalid("时间必须带时区", "Times must carry a time zone", field="start")
    if ends_at <= starts_at:
        raise invalid("结束时间必须晚于开始时间", "The end must be after the start", field="end")
    if len(reason) > 200:
        raise invalid("原因不能超过 200 字", "The reason has at most 200 characters", field="reason")
    row = Unavailability(kind=kind, party_id=party_id, starts_at=starts_at, ends_at=ends_at, reason=reason)
    session.add(row)
    await session.flush()
    await record(
        session,
        actor,
        "availability.unavailable",
        f"{kind.value}:{party_id}",
        at=now,
        city_code=city_code,
        details={"starts_at": starts_at.isoformat(), "ends_at": ends_at.isoformat(), "reason": reason},
    )
    return row


async def close_city_day(
    session: AsyncSession, code: str, day: dt.date, reason: str = "", *, actor: Actor, now: dt.datetime
) -> None:
    """Mark ``day`` closed in city ``code`` (closing it again changes only the reason)."""
    await _city(session, code, "code")
    if len(reason) > 200:
        raise invalid("原因不能超过 200 字", "The reason has at most 200 characters", field="reason")
    row = await session.get(CityDayClosed, (code, day))
    if row is None:
        session.add(CityDayClosed(city_code=code, day=day, reason=reason))
    else:
        row.reason = reason
    await session.flush()
    await record(
        session, actor, "city.close", f"city:{code}", at=now, city_code=code, details={"day": day.isoformat()}
    )


async def set_city_rooms(
    session: AsyncSession, code: str, rooms: int, *, actor: Actor, now: dt.datetime
) -> None:
    """Set how many checks city ``code`` can hold at once; fewer rooms than the checks booked at
    one time later on is refused (409), changing nothing."""
    city = await _city(session, code, "code")
    if not 1 <= rooms <= MAX_ROOMS:
        raise invalid(f"会议室数须在 1 到 {MAX_ROOMS} 之间", f"Rooms must be 1 to {MAX_ROOMS}", field="rooms")
    before = city.rooms
    if rooms < before:
        await _fit_rooms(session, city, rooms, now)
    city.rooms = rooms
    await session.flush()
    await record(
        session,
        actor,
        "city.rooms",
        f"city:{code}",
        at=now,
        city_code=code,
        details={"from": before, "to": rooms},
    )


async def closed_days_of(session: AsyncSession, code: str) -> list[CityDayClosed]:
    """A city's closed days, in order."""
    stmt = select(CityDayClosed).where(CityDayClosed.city_code == code).order_by(CityDayClosed.day)
    return list((await session.scalars(stmt)).all())


async def _fit_rooms(session: AsyncSession, city: City, rooms: int, now: dt.datetime) -> None:
    """Move the bookings of rooms ``rooms`` and above that end after ``now`` to a free room below
    ``rooms``, or refuse: more checks than ``rooms`` at once."""
    live = or_(Booking.hold_id.is_(None), Booking.hold_id.in_(select(Hold.id).where(Hold.expires_at > now)))
    stmt = select(Booking).where(Booking.resource.like(f"room:{city.code}:%"), Booking.ends_at > now, live)
    rows = list((await session.scalars(stmt.order_by(Booking.starts_at, Booking.id))).all())
    kept = [b for b in rows if b.slot < rooms]
    for booking in (b for b in rows if b.slot >= rooms):
        for slot in range(rooms):
            same = (o for o in kept if o.slot == slot)
            if not any(o.starts_at < booking.ends_at and booking.starts_at < o.ends_at for o in same):
                booking.slot, booking.resource = slot, room_resource(city.code, slot)
                kept.append(booking)
                break
        else:
            when = format_local(booking.starts_at)
            raise Conflict(
                Message(
                    f"{city.name_zh}在 {when} 同时进行的核查多于 {rooms} 场，请先改期再减少会议室",
                    f"{city.name_en} has more than {rooms} checks at once at {when}; "
                    "move some before reducing its rooms",
                ),
                [{"field": "rooms", "starts_at": booking.starts_at.isoformat()}],
            )
    await session.flush()
