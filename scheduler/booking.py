"""Which resources a check session holds, and whether they are free: pure logic, no I/O.

A session holds, over ``[starts_at, ends_at + buffer)``:

- one demonstration team of the project's supplier (``supplier:<id>:team:<k>``; a supplier
  with ``teams`` = c parallel teams has the slots k = 0 .. c-1, the first free one is taken),
- every expert of its panel (``expert:<id>``),
- the project's enterprise (``enterprise:<id>``),
- one room (panel) of the check's city (``room:<city>:<k>``; a city with ``rooms`` = c has the
  slots k = 0 .. c-1, like a supplier's teams: a city never runs more checks at once than it has
  rooms).

The buffer is added after the end only: since every booking of a resource carries it, two
sessions of one resource are always at least one buffer apart, and the stored intervals can
be compared as they are (which is what PostgreSQL's exclusion constraint does).
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from scheduler.planning.calendar import is_working_day_or_weekday

SUPPLIER_BUFFER = dt.timedelta(minutes=15)
EXPERT_BUFFER = dt.timedelta(0)
ENTERPRISE_BUFFER = dt.timedelta(0)
MAX_LENGTH = dt.timedelta(hours=4)
PANEL_SIZES = (3, 5)
WORKING_HOURS = (dt.time(8, 0), dt.time(18, 0))
"""Local (Asia/Shanghai) working hours, Monday to Friday: outside them a booking needs confirming."""


class ResourceKind(enum.StrEnum):
    SUPPLIER = "supplier"
    EXPERT = "expert"
    ENTERPRISE = "enterprise"
    ROOM = "room"


def supplier_resource(supplier_id: int, team: int) -> str:
    """The resource name of one demonstration team of a supplier."""
    return f"supplier:{supplier_id}:team:{team}"


def expert_resource(expert_id: int) -> str:
    """The resource name of an expert."""
    return f"expert:{expert_id}"


def enterprise_resource(enterprise_id: int) -> str:
    """The resource name of an enterprise."""
    return f"enterprise:{enterprise_id}"


def room_resource(city_code: str, room: int) -> str:
    """The resource name of one room (panel) of a city."""
    return f"room:{city_code}:{room}"


@dataclass(frozen=True)
class Interval:
    """A half-open interval ``[starts, ends)`` of aware instants."""

    starts: dt.datetime
    ends: dt.datetime

    def __post_init__(self) -> None:
        if self.starts.tzinfo is None or self.ends.tzinfo is None:
            raise ValueError("naive datetime refused")
        if self.ends <= self.starts:
            raise ValueError("an interval ends after it starts")

    def overlaps(self, other: Interval) -> bool:
        """Whether the two intervals share an instant (touching ends do not overlap)."""
        return self.starts < other.ends and other.starts < self.ends


@dataclass(frozen=True)
class Demand:
    """One resource a session needs: any one of ``options`` (tried in order) over ``interval``."""

    kind: ResourceKind
    party_id: int | str  # a city's code for a room
    options: tuple[str, ...]
    interval: Interval
    buffer: dt.timedelta = dt.timedelta(0)  # included at the end of ``interval``


@dataclass(frozen=True)
class Held:
    """A booking already in the database: of a session, or of a hold (``hold_id``; then
    ``session_id`` is 0)."""

    resource: str
    interval: Interval
    session_id: int
    hold_id: int | None = None


@dataclass(frozen=True)
class Allocation:
    resource: str
    slot: int
    interval: Interval


@dataclass(frozen=True)
class Clash:
    """A demand none of whose options is free, with the bookings in the way."""

    demand: Demand
    blocking: tuple[Held, ...]


@dataclass(frozen=True)
class Plan:
    allocations: tuple[Allocation, ...] = ()
    clashes: tuple[Clash, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not self.clashes


def session_demands(
    *,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    supplier_id: int,
    supplier_teams: int,
    enterprise_id: int,
    expert_ids: Sequence[int],
    supplier_buffer: dt.timedelta = SUPPLIER_BUFFER,
    expert_buffer: dt.timedelta = EXPERT_BUFFER,
    enterprise_buffer: dt.timedelta = ENTERPRISE_BUFFER,
    city_code: str | None = None,
    city_rooms: int = 1,
) -> list[Demand]:
    """Everything a session from ``starts_at`` to ``ends_at`` holds, buffers included; given the
    check's ``city_code``, also one of the city's ``city_rooms`` rooms (no buffer)."""
    if supplier_buffer < dt.timedelta(0) or expert_buffer < dt.timedelta(0):
        raise ValueError("buffers are not negative")
    teams = max(1, supplier_teams)
    demands = [
        Demand(
            ResourceKind.SUPPLIER,
            supplier_id,
            tuple(supplier_resource(supplier_id, k) for k in range(teams)),
            Interval(starts_at, ends_at + supplier_buffer),
            supplier_buffer,
        ),
        Demand(
            ResourceKind.ENTERPRISE,
            enterprise_id,
            (enterprise_resource(enterprise_id),),
            Interval(starts_at, ends_at + enterprise_buffer),
            enterprise_buffer,
        ),
    ]
    demands.extend(
        Demand(
            ResourceKind.EXPERT,
            expert_id,
            (expert_resource(expert_id),),
            Interval(starts_at, ends_at + expert_buffer),
            expert_buffer,
        )
        for expert_id in expert_ids
    )
    if city_code is not None:
        demands.append(
            Demand(
                ResourceKind.ROOM,
                city_code,
                tuple(room_resource(city_code, k) for k in range(max(1, city_rooms))),
                Interval(starts_at, ends_at),
            )
        )
    return demands


def resources_of(demands: Iterable[Demand]) -> list[str]:
    """Every resource name any of ``demands`` might take."""
    return sorted({option for demand in demands for option in demand.options})


def span(demands: Sequence[Demand]) -> Interval:
    """The smallest interval that covers every demand (to query the bookings that matter)."""
    return Interval(min(d.interval.starts for d in demands), max(d.interval.ends for d in demands))


def index_held(held: Iterable[Held]) -> dict[str, list[Held]]:
    """``held`` by resource (to try many times against the same bookings)."""
    by_resource: dict[str, list[Held]] = {}
    for booking in held:
        by_resource.setdefault(booking.resource, []).append(booking)
    return by_resource


def allocate(demands: Sequence[Demand], held: Iterable[Held]) -> Plan:
    """Give each demand its first free option, or report it as a clash with what blocks it.

    Every clash is reported, not only the first, so the user sees all of them at once.
    """
    return allocate_indexed(demands, index_held(held))


def allocate_indexed(demands: Sequence[Demand], by_resource: dict[str, list[Held]]) -> Plan:
    """:func:`allocate` against bookings already indexed by :func:`index_held`."""
    allocations: list[Allocation] = []
    clashes: list[Clash] = []
    for demand in demands:
        blocking: list[Held] = []
        chosen: Allocation | None = None
        starts, ends = demand.interval.starts, demand.interval.ends
        for slot, option in enumerate(demand.options):
            # Interval.overlaps, inline: this runs for every candidate time of the offers
            busy = [
                b
                for b in by_resource.get(option, ())
                if b.interval.starts < ends and starts < b.interval.ends
            ]
            if not busy:
                chosen = Allocation(option, slot, demand.interval)
                break
            blocking.extend(busy)
        if chosen is None:
            ordered = sorted(blocking, key=lambda b: (b.interval.starts, b.resource))
            clashes.append(Clash(demand, tuple(ordered)))
        else:
            allocations.append(chosen)
    # A fixed order of inserts, so that concurrent bookings wait on each other without deadlocks.
    allocations.sort(key=lambda a: a.resource)
    return Plan(tuple(allocations), tuple(clashes))


def conflict_reasons(
    employer_credit_code: str | None, ties: Iterable[str], parties: dict[str, str]
) -> list[str]:
    """Which of ``parties`` (credit code -> role, e.g. ``supplier``) an expert is tied to.

    Credit codes are compared without case or surrounding spaces; an expert's employer and
    every organisation in ``ties`` (former employer, shares, family) count.
    """
    mine = {_norm(code) for code in ties if code}
    if employer_credit_code:
        mine.add(_norm(employer_credit_code))
    return [role for code, role in parties.items() if code and _norm(code) in mine]


def _norm(code: str) -> str:
    return code.strip().upper()


def off_hours(starts_at: dt.datetime, ends_at: dt.datetime, tz: dt.tzinfo) -> list[str]:
    """Why a session from ``starts_at`` to ``ends_at`` is outside working time in ``tz``:
    ``"weekend"`` (a Saturday or Sunday that is not a swapped working day, 调休), ``"holiday"`` (an
    official holiday on a weekday), ``"hours"`` (before 08:00 or after 18:00). Working days follow
    China's official calendar; for a year it does not know yet, Monday to Friday."""
    starts, ends = starts_at.astimezone(tz), ends_at.astimezone(tz)
    reasons: list[str] = []
    for kind in ("weekend", "holiday"):
        if kind in (_day_off(starts.date()), _day_off(ends.date())):
            reasons.append(kind)
    opening, closing = WORKING_HOURS
    last = ends - dt.timedelta(microseconds=1)  # a session ending at 18:00 is within the hours
    if starts.time() < opening or starts.date() != last.date() or last.time() >= closing:
        reasons.append("hours")
    return reasons


def _day_off(day: dt.date) -> str | None:
    if is_working_day_or_weekday(day):
        return None
    return "weekend" if day.weekday() >= 5 else "holiday"


def panel_problems(expert_ids: Sequence[int]) -> list[str]:
    """Why a panel (lead first) is not acceptable: its size must be 3 or 5, nobody twice."""
    problems = []
    if len(expert_ids) not in PANEL_SIZES:
        problems.append("size")
    if len(set(expert_ids)) != len(expert_ids):
        problems.append("duplicate")
    return problems
