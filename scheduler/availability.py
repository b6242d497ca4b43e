"""Who may serve where, and when not (issue 11's hard rules): the cities an expert serves, the
times an expert or an enterprise is unavailable, and the days a city holds no checks.

An expert with no :class:`ExpertCity` rows serves every city (``home_city_code`` is where they
live, not a limit). A city's closed day is a whole Shanghai day on which none of its checks may
take place. The booking refuses each (:func:`availability_problems`, listed with the clashes by
:mod:`scheduler.reserve`); the nearest-time offers treat them as busy (:func:`blocked_in`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Date, Integer, String, and_, bindparam, cast, literal, null, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.expression import BindParameter, CompoundSelect

from remote_check.clock import SHANGHAI, format_local, local
from remote_check.database import UTCDateTime
from remote_check.errors import Conflict, Message
from remote_check.experts.models import Expert, ExpertCity
from remote_check.programme.cities import BY_CODE
from remote_check.programme.models import City, CityDayClosed, Enterprise, Unavailability, UnavailableKind
from scheduler.booking import Held, Interval, enterprise_resource, expert_resource


@dataclass(frozen=True)
class Problem:
    """One refusal: its words and its JSON detail."""

    message: Message
    detail: dict[str, str]


def _city_names(code: str) -> tuple[str, str]:
    city = BY_CODE.get(code)
    return (city.name_zh, city.name_en) if city else (code, code)


async def city_rooms(session: AsyncSession, code: str) -> int:
    """How many checks city ``code`` can hold at once (its rooms, panels)."""
    return int(await session.scalar(select(City.rooms).where(City.code == code)) or 1)


@dataclass(frozen=True)
class Unavailable:
    """A time an expert or an enterprise is unavailable (a row of ``unavailability``)."""

    kind: UnavailableKind
    party_id: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    reason: str


@dataclass(frozen=True)
class Closed:
    """A day a city holds no checks (a row of ``city_days_closed``)."""

    day: dt.date
    reason: str


@dataclass(frozen=True)
class Availability:
    """What the availability rules say about one check's parties over a window."""

    served: dict[int, set[str]]  # the cities each expert is limited to (absent: every city)
    unavailable: list[Unavailable]  # overlapping the window, by start
    closed: list[Closed]  # the city's closed days the window touches, by day


async def served_cities(session: AsyncSession, expert_ids: Sequence[int]) -> dict[int, set[str]]:
    """The cities each expert is limited to; an expert absent from the answer serves every city."""
    rows = (
        await session.execute(select(ExpertCity).where(ExpertCity.expert_id.in_(list(expert_ids))))
    ).scalars()
    out: dict[int, set[str]] = {}
    for row in rows:
        out.setdefault(row.expert_id, set()).add(row.city_code)
    return out


async def unavailable_in(
    session: AsyncSession, expert_ids: Sequence[int], enterprise_ids: Sequence[int], window: Interval
) -> list[Unavailability]:
    """The unavailability of the experts and enterprises overlapping ``window``."""
    stmt = select(Unavailability).where(
        or_(
            and_(
                Unavailability.kind == UnavailableKind.EXPERT, Unavailability.party_id.in_(list(expert_ids))
            ),
            and_(
                Unavailability.kind == UnavailableKind.ENTERPRISE,
                Unavailability.party_id.in_(list(enterprise_ids)),
            ),
        ),
        Unavailability.starts_at < window.ends,
        Unavailability.ends_at > window.starts,
    )
    return list((await session.scalars(stmt.order_by(Unavailability.starts_at, Unavailability.id))).all())


async def closed_days(
    session: AsyncSession, city_codes: Sequence[str], first: dt.date, last: dt.date
) -> list[CityDayClosed]:
    """The closed days of the cities from ``first`` to ``last``."""
    stmt = select(CityDayClosed).where(
        CityDayClosed.city_code.in_(list(city_codes)), CityDayClosed.day >= first, CityDayClosed.day <= last
    )
    return list((await session.scalars(stmt.order_by(CityDayClosed.day))).all())


def day_interval(day: dt.date) -> Interval:
    """The whole Shanghai day ``day``."""
    start = dt.datetime.combine(day, dt.time(0), tzinfo=SHANGHAI)
    return Interval(start, start + dt.timedelta(days=1))


def _dates(window: Interval) -> tuple[dt.date, dt.date]:
    last = (window.ends - dt.timedelta(microseconds=1)).astimezone(SHANGHAI).date()
    return window.starts.astimezone(SHANGHAI).date(), last


_UNAVAILABLE, _SERVES, _CLOSED = "u", "s", "c"
_NONE_AT = cast(null(), UTCDateTime())
_EXPERT_IDS: BindParameter[int] = bindparam("expert_ids", expanding=True)
_UNAVAILABLE_ROWS = select(
    literal(_UNAVAILABLE).label("source"),
    Unavailability.kind.label("kind"),
    Unavailability.party_id.label("party_id"),
    Unavailability.starts_at.label("starts_at"),
    Unavailability.ends_at.label("ends_at"),
    cast(null(), Date()).label("day"),
    Unavailability.reason.label("reason"),
).where(
    or_(
        and_(Unavailability.kind == UnavailableKind.EXPERT, Unavailability.party_id.in_(_EXPERT_IDS)),
        and_(
            Unavailability.kind == UnavailableKind.ENTERPRISE,
            Unavailability.party_id == bindparam("enterprise_id"),
        ),
    ),
    Unavailability.starts_at < bindparam("ends"),
    Unavailability.ends_at > bindparam("starts"),
)
_CLOSED_ROWS = select(
    literal(_CLOSED),
    cast(null(), String(24)),
    cast(null(), Integer()),
    _NONE_AT,
    _NONE_AT,
    CityDayClosed.day,
    CityDayClosed.reason,
).where(
    CityDayClosed.city_code == bindparam("city_code"),
    CityDayClosed.day >= bindparam("first"),
    CityDayClosed.day <= bindparam("last"),
)
_SERVES_ROWS = select(
    literal(_SERVES),
    cast(null(), String(24)),
    ExpertCity.expert_id,
    _NONE_AT,
    _NONE_AT,
    cast(null(), Date()),
    ExpertCity.city_code,  # in the column of the reasons
).where(ExpertCity.expert_id.in_(_EXPERT_IDS))
_AVAILABILITY: CompoundSelect[Any] = union_all(
    _UNAVAILABLE_ROWS, _CLOSED_ROWS, _SERVES_ROWS
)  # built once, run on every booking
_AWAY: CompoundSelect[Any] = union_all(
    _UNAVAILABLE_ROWS, _CLOSED_ROWS
)  # the same, when the experts' cities are known


async def availability_of(
    session: AsyncSession,
    *,
    city_code: str,
    expert_ids: Sequence[int],
    enterprise_id: int,
    window: Interval,
    served: dict[int, set[str]] | None = None,
) -> Availability:
    """The experts' cities (unless ``served`` is given: already read), the experts' and the
    enterprise's unavailability overlapping ``window`` and the city's closed days it touches, in
    one statement."""
    first, last = _dates(window)
    params = {
        "expert_ids": list(expert_ids),
        "enterprise_id": enterprise_id,
        "starts": window.starts,
        "ends": window.ends,
        "city_code": city_code,
        "first": first,
        "last": last,
    }
    rows = (await session.execute(_AVAILABILITY if served is None else _AWAY, params)).all()
    limits: dict[int, set[str]] = {} if served is None else served
    out: list[Unavailable] = []
    days: list[Closed] = []
    for source, kind, party_id, starts_at, ends_at, day, reason in rows:
        if source == _UNAVAILABLE:
            out.append(Unavailable(UnavailableKind(kind), party_id, starts_at, ends_at, reason))
        elif source == _CLOSED:
            days.append(Closed(day, reason))
        else:
            limits.setdefault(party_id, set()).add(reason)  # the city's code
    out.sort(key=lambda u: u.starts_at)
    days.sort(key=lambda c: c.day)
    return Availability(limits, out, days)


def availability_problems(
    availability: Availability,
    *,
    city_code: str,
    window: Interval,
    experts: Sequence[Expert],
    enterprise: Enterprise,
) -> list[Problem]:
    """Why a check in ``city_code`` during ``window`` may not take place (``availability`` read
    over ``window`` or more): an expert outside their cities, an expert or the enterprise
    unavailable, the city closed that day."""
    problems: list[Problem] = []
    city_zh, city_en = _city_names(city_code)
    limits = availability.served
    for expert in experts:
        if expert.id in limits and city_code not in limits[expert.id]:
            problems.append(
                Problem(
                    Message(
                        f"专家“{expert.name}”不在{city_zh}执行核查",
                        f"expert {expert.name} does not serve {city_en}",
                    ),
                    {"kind": "expert_city", "party_id": str(expert.id), "city_code": city_code},
                )
            )
    names = {(UnavailableKind.EXPERT, e.id): e.name for e in experts}
    names[(UnavailableKind.ENTERPRISE, enterprise.id)] = enterprise.name
    for row in availability.unavailable:
        if not (row.starts_at < window.ends and row.ends_at > window.starts):
            continue
        name = names[(row.kind, row.party_id)]
        who_zh = "专家" if row.kind == UnavailableKind.EXPERT else "企业"
        when = f"{format_local(row.starts_at)}–{format_local(row.ends_at)}"
        why_zh = f"（{row.reason}）" if row.reason else ""
        why_en = f" ({row.reason})" if row.reason else ""
        problems.append(
            Problem(
                Message(
                    f"{who_zh}“{name}”在 {when} 不可用{why_zh}",
                    f"{row.kind.value} {name} is unavailable {when}{why_en}",
                ),
                {
                    "kind": f"{row.kind.value}_unavailable",
                    "party_id": str(row.party_id),
                    "starts_at": local(row.starts_at).isoformat(),
                    "ends_at": local(row.ends_at).isoformat(),
                    "reason": row.reason,
                },
            )
        )
    first, last = _dates(window)
    for closed in availability.closed:
        if not first <= closed.day <= last:
            continue
        why_zh = f"（{closed.reason}）" if closed.reason else ""
        why_en = f" ({closed.reason})" if closed.reason else ""
        problems.append(
            Problem(
                Message(
                    f"{city_zh}在 {closed.day.isoformat()} 不安排核查{why_zh}",
                    f"{city_en} holds no checks on {closed.day.isoformat()}{why_en}",
                ),
                {
                    "kind": "city_closed",
                    "city_code": city_code,
                    "day": closed.day.isoformat(),
                    "reason": closed.reason,
                },
            )
        )
    return problems


async def blocked_in(
    session: AsyncSession,
    *,
    city_code: str,
    expert_ids: Sequence[int],
    enterprise_id: int,
    window: Interval,
    served: dict[int, set[str]] | None = None,
) -> list[Held] | None:
    """What the availability rules block during ``window`` as busy intervals of the check's
    resources (a closed day blocks the enterprise all day); ``None`` if an expert does not serve
    the city at all, so no time fits. ``served``: the experts' cities, if already read."""
    if served is not None and any(e in served and city_code not in served[e] for e in expert_ids):
        return None
    found = await availability_of(
        session,
        city_code=city_code,
        expert_ids=expert_ids,
        enterprise_id=enterprise_id,
        window=window,
        served=served,
    )
    limits = found.served
    if any(e in limits and city_code not in limits[e] for e in expert_ids):
        return None
    held = [
        Held(
            expert_resource(row.party_id)
            if row.kind == UnavailableKind.EXPERT
            else enterprise_resource(row.party_id),
            Interval(row.starts_at, row.ends_at),
            0,
        )
        for row in found.unavailable
    ]
    held += [Held(enterprise_resource(enterprise_id), day_interval(c.day), 0) for c in found.closed]
    return held


def with_problems(clashes: Conflict | None, problems: Sequence[Problem]) -> Conflict:
    """One 409 listing the clashes (if any) and the availability problems together."""
    if not problems:
        assert clashes is not None
        return clashes
    zh = "；".join(p.message.zh for p in problems)
    en = "; ".join(p.message.en for p in problems)
    details = [p.detail for p in problems]
    if clashes is None:
        return Conflict(Message(f"不可安排，未预订。{zh}", f"Not available, nothing booked: {en}"), details)
    return Conflict(
        Message(f"{clashes.message.zh}；{zh}", f"{clashes.message.en}; {en}"), clashes.details + details
    )
