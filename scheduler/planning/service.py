"""The planner's input read from the database (issue 11, "In the product").

:func:`build_source` turns what the database holds into a planner :class:`Instance` and remembers
which planner id is which row (:class:`Source`):

- projects: the published samples' projects (a campaign's published draw) still to be booked
  (status "sampled", no active session), of every campaign not closed that the planner's scope sees
  (the province: every city; a coordinator: their city). Due: the campaign's deadline. Priority: a
  re-check 2, a key project 1 (both 3).
- fixed: every active session (booked, under way, interrupted) of *every* city from the first
  planning day on: a coordinator plans around the other cities' checks, which hold the same
  suppliers and experts.
- suppliers with their demonstration teams; enterprises with their unavailability; active experts
  with their unavailability, each serving the cities of their :class:`ExpertCity` rows (none:
  every city; see :mod:`scheduler.availability`), tied to the suppliers and enterprises whose
  credit code is their employer's or among their ties (the booking's own test,
  :func:`scheduler.booking.conflict_reasons`).
- rooms: each city's ``cities.rooms`` (:attr:`PlanningOptions.rooms_per_city` only for a city
  without a row).
- a city's closed day: the planner's days are the province's, so a closed day is modelled as the
  whole day unavailable to the enterprises of that city's projects (no check of the city then).
- working days: China's official calendar (:mod:`scheduler.planning.calendar`) from the day after
  ``now`` to the latest deadline; a year the installed calendar does not know falls back to Monday
  to Friday and says so in :attr:`Source.notes`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from remote_check.accounts.access import Principal, ScopeKind, project_scope
from remote_check.campaigns.models import Campaign, CampaignStatus, Draw, DrawEntry, DrawStatus
from remote_check.clock import SHANGHAI
from remote_check.errors import Message
from remote_check.experts.models import Expert
from remote_check.programme.models import (
    City,
    Enterprise,
    ProjectStatus,
    Supplier,
    UnavailableKind,
    VoucherProject,
)
from remote_check.programme.scoping import scope_cities
from remote_check.settings import PlanningSettings
from scheduler.availability import closed_days, day_interval, served_cities, unavailable_in
from scheduler.booking import PANEL_SIZES, SUPPLIER_BUFFER, Interval, conflict_reasons
from scheduler.lifecycle import ACTIVE
from scheduler.models import CheckSession, PanelRole, PanelSeat
from scheduler.planning import instance as pi
from scheduler.planning.calendar import UnknownYear, is_working_day


@dataclass(frozen=True)
class PlanningOptions:
    """How checks are planned: their length, the working periods of a day, rooms per city."""

    session_minutes: int = 60
    day_hours: tuple[tuple[dt.time, dt.time], ...] = (
        (dt.time(9, 0), dt.time(12, 0)),
        (dt.time(14, 0), dt.time(17, 30)),
    )
    rooms_per_city: int = 3
    panel: int = PANEL_SIZES[0]

    @classmethod
    def of(cls, settings: PlanningSettings) -> PlanningOptions:
        """The options the settings give."""
        return cls(session_minutes=settings.session_minutes, rooms_per_city=settings.rooms_per_city)


@dataclass(frozen=True)
class ProjectRef:
    """A planned project as the pages show it."""

    id: int
    code: str
    city_code: str
    campaign_id: int | None
    supplier: str  # names
    enterprise: str


@dataclass(frozen=True)
class Source:
    """A planner instance and what its ids stand for: ``P<id>`` projects, ``S<id>`` suppliers,
    ``C<id>`` enterprises, ``E<id>`` experts (database ids)."""

    instance: pi.Instance
    city_code: str | None  # None: the whole province
    projects: dict[str, ProjectRef]
    experts: dict[str, str]  # planner id -> name
    suppliers: dict[str, str]  # planner id -> name
    enterprises: dict[str, str]  # planner id -> name
    notes: list[Message] = field(default_factory=list)

    @property
    def to_place(self) -> list[str]:
        """The planner ids of the projects to place (not the fixed ones)."""
        fixed = {f.project for f in self.instance.fixed}
        return [p.id for p in self.instance.projects if p.id not in fixed]


def db_id(planner_id: str) -> int:
    """The database id behind a planner id (``P12`` -> 12)."""
    return int(planner_id[1:])


def planning_days(first: dt.date, last: dt.date) -> tuple[list[dt.date], list[int]]:
    """The working days from ``first`` to ``last`` and the years the official calendar did not know
    (Monday to Friday are taken for those)."""
    days: list[dt.date] = []
    unknown: set[int] = set()
    day = first
    while day <= last:
        try:
            working = is_working_day(day)
        except UnknownYear:
            unknown.add(day.year)
            working = day.weekday() < 5
        if working:
            days.append(day)
        day += dt.timedelta(days=1)
    return days, sorted(unknown)


def _priority(project: VoucherProject) -> int:
    return 2 * project.under_recheck + project.is_key_project


async def _to_place(session: AsyncSession, principal: Principal) -> list[tuple[VoucherProject, Campaign]]:
    """The published samples' projects not yet booked, in the principal's cities, with their campaign."""
    active = select(CheckSession.project_id).where(CheckSession.status.in_(ACTIVE))
    stmt = (
        select(VoucherProject, Campaign)
        .join(DrawEntry, DrawEntry.project_id == VoucherProject.id)
        .join(Draw, Draw.id == DrawEntry.draw_id)
        .join(Campaign, Campaign.id == Draw.campaign_id)
        .where(
            Draw.status == DrawStatus.PUBLISHED,
            Campaign.status != CampaignStatus.CLOSED,
            VoucherProject.status == ProjectStatus.SAMPLED,
            VoucherProject.city_code == Campaign.city_code,
            VoucherProject.id.not_in(active),
        )
        .order_by(VoucherProject.id)
    )
    rows = (await session.execute(scope_cities(stmt, Campaign.city_code, project_scope(principal)))).all()
    seen: set[int] = set()
    out = []
    for project, campaign in rows:  # a project in two campaigns' samples is planned once
        if project.id not in seen:
            seen.add(project.id)
            out.append((project, campaign))
    return out


async def build_source(
    session: AsyncSession, principal: Principal, *, now: dt.datetime, options: PlanningOptions
) -> Source:
    """The planner's input for ``principal``'s scope (see the module's docstring)."""
    scope = project_scope(principal)
    city = scope.city_code if scope.kind == ScopeKind.CITY else None
    placing = await _to_place(session, principal)
    first = now.astimezone(SHANGHAI).date() + dt.timedelta(days=1)
    last = max((c.deadline for _, c in placing), default=first)
    days, unknown = planning_days(first, max(last, first))
    notes = [
        Message(
            f"官方日历未知：{year} 年按周一至周五计工作日（请升级 chinesecalendar）",
            f"The official calendar of {year} is not known: Monday to Friday are taken as working days "
            "(upgrade chinesecalendar)",
        )
        for year in unknown
    ]
    horizon = dt.datetime.combine(first, dt.time(0), tzinfo=SHANGHAI)
    fixed_rows = (
        await session.execute(
            select(CheckSession, VoucherProject)
            .join(VoucherProject, VoucherProject.id == CheckSession.project_id)
            .where(CheckSession.status.in_(ACTIVE), CheckSession.ends_at > horizon)
            .order_by(CheckSession.starts_at, CheckSession.id)
        )
    ).all()
    seats = (
        await session.execute(
            select(PanelSeat.session_id, PanelSeat.expert_id)
            .where(PanelSeat.session_id.in_([s.id for s, _ in fixed_rows]))
            .order_by(PanelSeat.role != PanelRole.LEAD, PanelSeat.id)
        )
    ).all()
    panels: dict[int, list[int]] = {}
    for session_id, expert_id in seats:
        panels.setdefault(session_id, []).append(expert_id)

    projects = list({p.id: p for p in [p for p, _ in placing] + [p for _, p in fixed_rows]}.values())
    supplier_rows = await _suppliers(session, {p.supplier_id for p in projects})
    enterprise_rows = await _enterprises(session, {p.enterprise_id for p in projects})
    seated = {e for panel in panels.values() for e in panel}
    experts = (
        await session.scalars(
            select(Expert).where(Expert.active.is_(True) | Expert.id.in_(seated)).order_by(Expert.id)
        )
    ).all()

    cities = sorted({p.city_code for p in projects} | ({city} if city else set()))
    city_rows = await session.execute(select(City.code, City.rooms).where(City.code.in_(cities)))
    rooms: dict[str, int] = {code: n for code, n in city_rows.all()}
    limits = await served_cities(session, [e.id for e in experts])
    parties = {s.credit_code: f"S{s.id}" for s in supplier_rows.values()} | {
        e.credit_code: f"C{e.id}" for e in enterprise_rows.values()
    }
    zone = SHANGHAI
    length = dt.timedelta(minutes=options.session_minutes)
    unavailable: dict[str, list[pi.Interval]] = {}
    fixed: list[pi.Fixed] = []
    for check, project in fixed_rows:
        start = check.starts_at.astimezone(zone)
        fixed.append(pi.Fixed(f"P{project.id}", start, tuple(f"E{e}" for e in panels.get(check.id, []))))
        if check.ends_at - check.starts_at > length:  # longer than a planned check: the rest is busy
            rest = (start + length, check.ends_at.astimezone(zone))
            for who in [f"C{project.enterprise_id}", *(f"E{e}" for e in panels.get(check.id, []))]:
                unavailable.setdefault(who, []).append(rest)
    due_fixed = days[-1] if days else first
    window = Interval(
        horizon, dt.datetime.combine(max(last, first), dt.time(0), tzinfo=zone) + dt.timedelta(days=1)
    )
    away = await unavailable_in(
        session, [e.id for e in experts], [e.id for e in enterprise_rows.values()], window
    )
    for row in away:
        prefix = "E" if row.kind == UnavailableKind.EXPERT else "C"
        unavailable.setdefault(f"{prefix}{row.party_id}", []).append(
            (row.starts_at.astimezone(zone), row.ends_at.astimezone(zone))
        )
    closed = await closed_days(session, cities, first, max(last, first))
    for shut in closed:
        whole = day_interval(shut.day)
        for enterprise_id in sorted({p.enterprise_id for p in projects if p.city_code == shut.city_code}):
            unavailable.setdefault(f"C{enterprise_id}", []).append((whole.starts, whole.ends))
    instance = pi.Instance(
        timezone=zone,
        days=tuple(days),
        day_hours=options.day_hours,
        session_minutes=options.session_minutes,
        supplier_buffer_minutes=int(SUPPLIER_BUFFER.total_seconds() // 60),
        cities=tuple(pi.City(c, rooms.get(c, options.rooms_per_city)) for c in cities),
        suppliers=tuple(pi.Supplier(f"S{s.id}", max(1, s.teams)) for s in supplier_rows.values()),
        experts=tuple(
            pi.Expert(
                f"E{e.id}",
                (frozenset(limits[e.id]) & frozenset(cities) if e.id in limits else frozenset(cities))
                if e.active
                else frozenset(),
                tuple(unavailable.get(f"E{e.id}", [])),
                frozenset(conflict_reasons(e.employer_credit_code, e.ties or [], parties)),
            )
            for e in experts
        ),
        enterprises=tuple(
            pi.Enterprise(f"C{e.id}", e.city_code, tuple(unavailable.get(f"C{e.id}", [])))
            for e in enterprise_rows.values()
        ),
        projects=tuple(
            [
                pi.Project(
                    f"P{p.id}",
                    p.city_code,
                    f"S{p.supplier_id}",
                    f"C{p.enterprise_id}",
                    options.panel,
                    _priority(p),
                    c.deadline,
                )
                for p, c in placing
            ]
            + [
                pi.Project(
                    f"P{p.id}",
                    p.city_code,
                    f"S{p.supplier_id}",
                    f"C{p.enterprise_id}",
                    max(1, len(panels.get(s.id, []))),
                    0,
                    max(due_fixed, s.starts_at.astimezone(zone).date()),
                )
                for s, p in fixed_rows
            ]
        ),
        fixed=tuple(fixed),
    )
    campaign_of = {p.id: c.id for p, c in placing}
    return Source(
        instance=instance,
        city_code=city,
        projects={
            f"P{p.id}": ProjectRef(
                p.id,
                p.code,
                p.city_code,
                campaign_of.get(p.id),
                supplier_rows[p.supplier_id].name,
                enterprise_rows[p.enterprise_id].name,
            )
            for p in projects
        },
        experts={f"E{e.id}": e.name for e in experts},
        suppliers={f"S{s.id}": s.name for s in supplier_rows.values()},
        enterprises={f"C{e.id}": e.name for e in enterprise_rows.values()},
        notes=notes,
    )


async def _suppliers(session: AsyncSession, ids: set[int]) -> dict[int, Supplier]:
    rows = (await session.scalars(select(Supplier).where(Supplier.id.in_(ids)).order_by(Supplier.id))).all()
    return {row.id: row for row in rows}


async def _enterprises(session: AsyncSession, ids: set[int]) -> dict[int, Enterprise]:
    stmt = select(Enterprise).where(Enterprise.id.in_(ids)).order_by(Enterprise.id)
    return {row.id: row for row in (await session.scalars(stmt)).all()}
