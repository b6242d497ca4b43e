"""A city's availability, as its coordinator (or the province) keeps it: the unavailability of the
experts who serve the city and of the city's enterprises, the city's closed days and its rooms.

Each function works inside the caller's transaction, checks that the city is the caller's
(:func:`remote_check.accounts.access.require_city`) and records each change in the audit log;
bad input is a 4xx naming the field, changing nothing. The rules themselves (what a booking
refuses) are :mod:`scheduler.availability`'s; entering them is :mod:`scheduler.availability_admin`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, delete, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from remote_check.accounts.access import Principal, require_city
from remote_check.audit.service import Actor, record
from remote_check.clock import SHANGHAI
from remote_check.errors import DomainError, NotFound, invalid
from remote_check.experts.models import Expert, ExpertCity
from remote_check.programme.models import (
    City,
    CityDayClosed,
    Enterprise,
    Unavailability,
    UnavailableKind,
    VoucherProject,
)
from scheduler.availability import day_interval
from scheduler.availability_admin import add_unavailability, close_city_day, closed_days_of
from scheduler.booking import Interval
from scheduler.lifecycle import ACTIVE
from scheduler.models import CheckSession, PanelSeat

LISTED = 500  # parties and entries shown at most (a city has far fewer)


@dataclass(frozen=True)
class Party:
    """An expert who serves the city, or one of its enterprises."""

    kind: UnavailableKind
    id: int
    name: str


@dataclass(frozen=True)
class Entry:
    """One time a party is unavailable."""

    row: Unavailability
    party: Party
    affected: tuple[int, ...] = ()  # the checks already booked then (they stay: the coordinator moves them)


@dataclass(frozen=True)
class CityAvailability:
    city: City
    experts: list[Party]
    enterprises: list[Party]
    unavailable: list[Entry]  # ending after now, in time order
    closed: list[CityDayClosed]  # from today on, in order


async def _city(session: AsyncSession, principal: Principal, code: str) -> City:
    city = await session.get(City, code)
    if city is None:
        raise NotFound("城市", "City")
    require_city(principal, code)
    return city


def _serves(code: str) -> ColumnElement[bool]:
    """Experts with no city rows (every city) or a row for ``code``."""
    return or_(
        ~exists().where(ExpertCity.expert_id == Expert.id),
        exists().where(and_(ExpertCity.expert_id == Expert.id, ExpertCity.city_code == code)),
    )


async def _experts(session: AsyncSession, code: str, ids: list[int] | None = None) -> list[Party]:
    stmt = select(Expert.id, Expert.name).where(Expert.active.is_(True), _serves(code))
    if ids is not None:
        stmt = stmt.where(Expert.id.in_(ids))
    rows = (await session.execute(stmt.order_by(Expert.name, Expert.id).limit(LISTED))).all()
    return [Party(UnavailableKind.EXPERT, i, n) for i, n in rows]


async def _enterprises(session: AsyncSession, code: str, ids: list[int] | None = None) -> list[Party]:
    stmt = select(Enterprise.id, Enterprise.name).where(Enterprise.city_code == code)
    if ids is not None:
        stmt = stmt.where(Enterprise.id.in_(ids))
    rows = (await session.execute(stmt.order_by(Enterprise.name, Enterprise.id).limit(LISTED))).all()
    return [Party(UnavailableKind.ENTERPRISE, i, n) for i, n in rows]


async def city_availability(
    session: AsyncSession, principal: Principal, code: str, *, now: dt.datetime
) -> CityAvailability:
    """What the availability page of city ``code`` shows (403 if it is not the caller's city)."""
    city = await _city(session, principal, code)
    experts, enterprises = await _experts(session, code), await _enterprises(session, code)
    parties = {(p.kind, p.id): p for p in experts + enterprises}
    rows = (
        await session.scalars(
            select(Unavailability)
            .where(Unavailability.ends_at > now)
            .order_by(Unavailability.starts_at, Unavailability.id)
        )
    ).all()
    entries = [Entry(r, parties[r.kind, r.party_id]) for r in rows if (r.kind, r.party_id) in parties]
    today = now.astimezone(SHANGHAI).date()
    closed = [c for c in await closed_days_of(session, code) if c.day >= today]
    return CityAvailability(city, experts, enterprises, entries[:LISTED], closed)


async def _party(session: AsyncSession, code: str, kind: UnavailableKind, party_id: int) -> Party:
    """The expert serving city ``code`` or the enterprise of it with that id, else a 422."""
    found = (
        await _experts(session, code, [party_id])
        if kind == UnavailableKind.EXPERT
        else await _enterprises(session, code, [party_id])
    )
    if not found:
        if kind == UnavailableKind.EXPERT:
            raise invalid(
                f"专家 {party_id} 不在本市执行核查",
                f"Expert {party_id} does not serve this city",
                field="party_id",
            )
        raise invalid(
            f"企业 {party_id} 不是本市企业", f"Enterprise {party_id} is not in this city", field="party_id"
        )
    return found[0]


async def add_city_unavailability(
    session: AsyncSession,
    principal: Principal,
    code: str,
    kind: UnavailableKind,
    party_id: int,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    reason: str,
    *,
    now: dt.datetime,
) -> Entry:
    """Mark an expert serving city ``code`` or one of its enterprises unavailable (audited)."""
    await _city(session, principal, code)
    party = await _party(session, code, kind, party_id)
    row = await add_unavailability(
        session,
        kind,
        party_id,
        starts_at,
        ends_at,
        reason,
        actor=Actor.of(principal),
        now=now,
        city_code=code,
    )
    affected = await booked_during(session, Interval(starts_at, ends_at), kind=kind, party_id=party_id)
    return Entry(row, party, affected)


async def remove_city_unavailability(
    session: AsyncSession, principal: Principal, code: str, entry_id: int, *, now: dt.datetime
) -> None:
    """Remove one unavailability of a party of city ``code`` (404 if it is not one; audited)."""
    await _city(session, principal, code)
    row = await session.get(Unavailability, entry_id)
    if row is None:
        raise NotFound("不可用时间", "Unavailability")
    try:
        await _party(session, code, row.kind, row.party_id)
    except DomainError:  # another city's party: answered like an absent entry
        raise NotFound("不可用时间", "Unavailability") from None
    await session.delete(row)
    await session.flush()
    await record(
        session,
        Actor.of(principal),
        "availability.available",
        f"{row.kind.value}:{row.party_id}",
        at=now,
        city_code=code,
        details={
            "starts_at": row.starts_at.isoformat(),
            "ends_at": row.ends_at.isoformat(),
            "reason": row.reason,
        },
    )


async def reopen_city_day(
    session: AsyncSession, principal: Principal, code: str, day: dt.date, *, now: dt.datetime
) -> None:
    """Open a closed day of city ``code`` again (404 if it was not closed; audited)."""
    await _city(session, principal, code)
    gone = await session.execute(
        delete(CityDayClosed).where(CityDayClosed.city_code == code, CityDayClosed.day == day)
    )
    if not gone.rowcount:  # type: ignore[attr-defined]
        raise NotFound("停止核查日", "Closed day")
    await record(
        session,
        Actor.of(principal),
        "city.reopen",
        f"city:{code}",
        at=now,
        city_code=code,
        details={"day": day.isoformat()},
    )


async def check_city(session: AsyncSession, principal: Principal, code: str) -> City:
    """City ``code`` if it is the caller's (404 unknown, 403 another city)."""
    return await _city(session, principal, code)


def parse_day(text: str) -> dt.date:
    """A closed day named in a path (``YYYY-MM-DD``, checked by the route); an impossible date is
    answered like a day that is not closed (404)."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise NotFound("停止核查日", "Closed day") from None


async def booked_during(
    session: AsyncSession,
    window: Interval,
    *,
    city_code: str | None = None,
    kind: UnavailableKind | None = None,
    party_id: int = 0,
) -> tuple[int, ...]:
    """The active checks overlapping ``window``: of city ``city_code``, or with the expert on their
    panel, or of the enterprise's project (``kind``, ``party_id``); in time order."""
    stmt = select(CheckSession.id).where(
        CheckSession.status.in_(ACTIVE),
        CheckSession.starts_at < window.ends,
        CheckSession.ends_at > window.starts,
    )
    if city_code is not None:
        stmt = stmt.where(CheckSession.city_code == city_code)
    if kind == UnavailableKind.EXPERT:
        stmt = stmt.join(PanelSeat, PanelSeat.session_id == CheckSession.id).where(
            PanelSeat.expert_id == party_id
        )
    elif kind == UnavailableKind.ENTERPRISE:
        stmt = stmt.join(VoucherProject, VoucherProject.id == CheckSession.project_id).where(
            VoucherProject.enterprise_id == party_id
        )
    return tuple((await session.scalars(stmt.order_by(CheckSession.starts_at, CheckSession.id))).all())


async def close_day_of_city(
    session: AsyncSession, principal: Principal, code: str, day: dt.date, reason: str, *, now: dt.datetime
) -> tuple[int, ...]:
    """Close ``day`` in city ``code`` (audited); the ids of the city's checks already booked that day."""
    await _city(session, principal, code)
    await close_city_day(session, code, day, reason, actor=Actor.of(principal), now=now)
    return await booked_during(session, day_interval(day), city_code=code)
