"""The nearest free times offered with a refused booking: one query of the busy intervals, then
the pure search of :mod:`scheduler.suggest`."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from remote_check.clock import SHANGHAI
from scheduler.availability import blocked_in
from scheduler.booking import Demand, Held, Interval, resources_of, session_demands
from scheduler.models import Booking, Hold
from scheduler.planning.calendar import UnknownYear, working_days
from scheduler.suggest import (
    Search,
    Suggestion,
    candidate_starts,
    days_around,
    nearest_times,
    search_window,
)


@dataclass(frozen=True)
class Found:
    """The bookings of some resources over a window: those that count (``held``), and whether
    rows of lapsed holds lie there too (``lapsed``)."""

    held: list[Held]
    lapsed: bool


_BOOKINGS_IN = (
    select(
        Booking.resource,
        Booking.starts_at,
        Booking.ends_at,
        Booking.session_id,
        Booking.hold_id,
        Hold.expires_at,
        Hold.user_id,
        Hold.project_id,
    )
    .outerjoin(Hold, Hold.id == Booking.hold_id)
    .where(
        Booking.resource.in_(bindparam("resources", expanding=True)),
        Booking.starts_at < bindparam("ends"),
        Booking.ends_at > bindparam("starts"),
    )
)  # built once (building a statement costs more than running it here)


@dataclass(frozen=True)
class Mine:
    """The booker's own holds of the project being booked: the booking converts them (releases
    them before it inserts), so they never stand in its way."""

    user_id: int
    project_id: int


async def bookings_in(
    session: AsyncSession, resources: list[str], window: Interval, now: dt.datetime, mine: Mine | None = None
) -> Found:
    """Bookings of ``resources`` overlapping ``window``: of sessions, and of holds that have not
    lapsed at ``now`` and are not ``mine``; and whether any of a lapsed hold lies there."""
    params = {"resources": resources, "starts": window.starts, "ends": window.ends}
    rows = (await session.execute(_BOOKINGS_IN, params)).all()
    held: list[Held] = []
    lapsed = False
    for resource, starts_at, ends_at, session_id, hold_id, expires_at, user_id, project_id in rows:
        if hold_id is not None and (expires_at is None or expires_at <= now):
            lapsed = True
            continue
        if (
            hold_id is not None
            and mine is not None
            and (user_id, project_id) == (mine.user_id, mine.project_id)
        ):
            continue
        held.append(Held(resource, Interval(starts_at, ends_at), session_id or 0, hold_id))
    return Found(held, lapsed)


async def held_in(
    session: AsyncSession, resources: list[str], window: Interval, now: dt.datetime, mine: Mine | None = None
) -> list[Held]:
    """Bookings of ``resources`` overlapping ``window``: of sessions, and of holds that have not
    lapsed at ``now`` and are not ``mine``."""
    return (await bookings_in(session, resources, window, now, mine)).held


@functools.lru_cache(maxsize=64)
def _days(first: dt.date, last: dt.date) -> tuple[dt.date, ...]:
    """Working days by the official calendar; Monday to Friday for a year it does not know yet
    (kept: the calendar does not change while the server runs)."""
    try:
        return tuple(working_days(first, last))
    except UnknownYear:
        count = (last - first).days + 1
        every = (first + dt.timedelta(days=i) for i in range(max(count, 0)))
        return tuple(d for d in every if d.weekday() < 5)


async def offer_times(
    session: AsyncSession,
    *,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    now: dt.datetime,
    deadline: dt.date | None,
    supplier_id: int,
    supplier_teams: int,
    enterprise_id: int,
    expert_ids: Sequence[int],
    supplier_buffer: dt.timedelta,
    expert_buffer: dt.timedelta,
    city_code: str | None = None,
    city_rooms: int = 1,
    served: dict[int, set[str]] | None = None,
    mine: Mine | None = None,
) -> list[Suggestion]:
    """The three times nearest to ``starts_at`` at which the whole check fits (see
    :func:`scheduler.suggest.nearest_times`), excluding the refused time itself; given the check's
    ``city_code``, also with one of its ``city_rooms`` rooms free, outside the experts' and the
    enterprise's unavailability and the city's closed days, and none at all if an expert does not
    serve the city (``served``: the experts' cities, if already read; ``mine``: the booker's holds
    that the booking converts)."""

    def demands_at(s: dt.datetime, e: dt.datetime) -> list[Demand]:
        return session_demands(
            starts_at=s,
            ends_at=e,
            supplier_id=supplier_id,
            supplier_teams=supplier_teams,
            enterprise_id=enterprise_id,
            expert_ids=expert_ids,
            supplier_buffer=supplier_buffer,
            expert_buffer=expert_buffer,
            city_code=city_code,
            city_rooms=city_rooms,
        )

    first, last = days_around(
        starts_at.astimezone(SHANGHAI).date(), now.astimezone(SHANGHAI).date(), deadline
    )
    search = Search(
        wanted=starts_at,
        length=ends_at - starts_at,
        now=now,
        tz=SHANGHAI,
        days=list(_days(first, last)),
        deadline=deadline,
    )
    starts = candidate_starts(search)
    window = search_window(search, max(supplier_buffer, expert_buffer), starts)
    resources = resources_of(demands_at(starts_at, ends_at))
    held = await held_in(session, resources, Interval(*window), now, mine)
    if city_code is not None:
        blocked = await blocked_in(
            session,
            city_code=city_code,
            expert_ids=expert_ids,
            enterprise_id=enterprise_id,
            window=Interval(*window),
            served=served,
        )
        if blocked is None:
            return []
        held += blocked
    return nearest_times(search, demands_at, held, skip=lambda s: s == starts_at, starts=starts)
