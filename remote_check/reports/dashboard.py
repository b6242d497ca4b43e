"""The province's dashboard: each city's progress against its deadline, and suppliers across cities.

Read from the campaigns' published samples and the projects' statuses (no sessions): a sampled
project is *planned* once booked (``scheduled`` or any later step), *checked* once the check is
done (``checked`` or an outcome). The scope decides what is counted: the province every city, a
city's coordinator or auditor their city, the alliance staff the cluster projects (产业集群) of
every city, without money (a city's budget is not theirs).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from remote_check.accounts.access import Principal, Scope, ScopeKind, project_scope
from remote_check.campaigns.models import Campaign, Draw, DrawEntry, DrawStatus
from remote_check.errors import Forbidden, Message
from remote_check.programme.models import City, ProjectStatus, Supplier, VoucherProject
from remote_check.reports.content import Bucket, bucket
from remote_check.reports.gather import city_name
from remote_check.reports.money import MoneyFigures, money_figures

S = ProjectStatus
UNPLANNED = frozenset({S.REGISTERED, S.SAMPLED})
NOT_CHECKED = UNPLANNED | {S.SCHEDULED}


@dataclass(frozen=True)
class CityProgress:
    """One campaign's progress (a city's campaign of one period)."""

    campaign_id: int
    city_code: str
    city: str
    period: str
    deadline: dt.date
    days_left: int
    sampled: int
    planned: int
    checked: int
    outcomes: dict[Bucket, int]
    money: MoneyFigures | None  # None when the viewer does not see the city's money

    @property
    def remaining(self) -> int:
        """Sampled projects whose check is not done yet."""
        return self.sampled - self.checked

    @property
    def overdue(self) -> bool:
        """The deadline has passed with checks still to do."""
        return self.days_left < 0 and self.remaining > 0

    @property
    def concluded(self) -> int:
        return self.sampled - self.outcomes.get(Bucket.PENDING, 0)


@dataclass(frozen=True)
class SupplierRow:
    """A supplier across the cities in view: projects, outcomes, sanctions."""

    supplier_id: int
    name: str
    projects: int  # all its voucher projects in view, sampled or not
    cities: int
    sampled: int
    outcomes: dict[Bucket, int]
    under_recheck: int
    listed: bool
    barred_until: dt.date | None

    @property
    def sanctioned(self) -> bool:
        return not self.listed or self.barred_until is not None


@dataclass(frozen=True)
class Dashboard:
    scope: Scope
    today: dt.date
    cities: list[CityProgress] = field(default_factory=list)
    suppliers: list[SupplierRow] = field(default_factory=list)
    # Cities of the round in view with no published sample yet (none for alliance staff).
    not_started: list[str] = field(default_factory=list)

    @property
    def totals(self) -> dict[str, int]:
        out = Counter[str]()
        for c in self.cities:
            out.update({"sampled": c.sampled, "planned": c.planned, "checked": c.checked})
            out.update({b.value: n for b, n in c.outcomes.items()})
        return dict(out)


def _in_scope(
    stmt: Select[DrawEntry, VoucherProject, Campaign], scope: Scope
) -> Select[DrawEntry, VoucherProject, Campaign]:
    if scope.kind == ScopeKind.CITY:
        return stmt.where(Campaign.city_code == scope.city_code)
    if scope.kind == ScopeKind.CLUSTER:
        return stmt.where(VoucherProject.is_cluster.is_(True))
    return stmt


def _scope(principal: Principal) -> Scope:
    scope = project_scope(principal)
    if scope.kind == ScopeKind.PANEL:
        raise Forbidden(Message("您的角色无权查看全省进度", "Your role may not see the province's progress"))
    return scope


def _progress(
    campaign: Campaign, statuses: Sequence[ProjectStatus], today: dt.date, money: MoneyFigures | None
) -> CityProgress:
    outcomes = Counter(bucket(s) for s in statuses)
    return CityProgress(
        campaign_id=campaign.id,
        city_code=campaign.city_code,
        city=city_name(campaign.city_code),
        period=campaign.period,
        deadline=campaign.deadline,
        days_left=(campaign.deadline - today).days,
        sampled=len(statuses),
        planned=sum(s not in UNPLANNED for s in statuses),
        checked=sum(s not in NOT_CHECKED for s in statuses),
        outcomes={b: outcomes.get(b, 0) for b in Bucket},
        money=money,
    )


async def dashboard(session: AsyncSession, principal: Principal, *, today: dt.date) -> Dashboard:
    """The dashboard as ``principal`` may see it (403 for experts)."""
    scope = _scope(principal)
    stmt = (
        select(DrawEntry, VoucherProject, Campaign)
        .join(Draw, Draw.id == DrawEntry.draw_id)
        .join(Campaign, Campaign.id == Draw.campaign_id)
        .join(VoucherProject, VoucherProject.id == DrawEntry.project_id)
        .where(Draw.status == DrawStatus.PUBLISHED)
    )
    rows = (await session.execute(_in_scope(stmt, scope))).all()
    by_campaign: dict[int, tuple[Campaign, list[ProjectStatus]]] = {}
    by_supplier: dict[int, list[VoucherProject]] = {}
    for _entry, project, campaign in rows:
        by_campaign.setdefault(campaign.id, (campaign, []))[1].append(project.status)
        by_supplier.setdefault(project.supplier_id, []).append(project)
    cities = []
    for campaign, statuses in sorted(by_campaign.values(), key=lambda v: (v[0].city_code, v[0].period)):
        money = None if scope.kind == ScopeKind.CLUSTER else await money_figures(session, campaign)
        cities.append(_progress(campaign, statuses, today, money))
    started = {c.city_code for c in cities}
    waiting: list[str] = []
    if scope.kind != ScopeKind.CLUSTER:
        in_view = select(City.code).where(City.in_round.is_(True)).order_by(City.code)
        if scope.kind == ScopeKind.CITY:
            in_view = select(City.code).where(City.code == scope.city_code)
        waiting = [code for code in (await session.scalars(in_view)).all() if code not in started]
    return Dashboard(scope, today, cities, await _suppliers(session, scope, by_supplier), waiting)


async def _suppliers(
    session: AsyncSession, scope: Scope, sampled: dict[int, list[VoucherProject]]
) -> list[SupplierRow]:
    if not sampled:
        return []
    suppliers = (await session.scalars(select(Supplier).where(Supplier.id.in_(sampled)))).all()
    counting = (
        select(VoucherProject.supplier_id, func.count(VoucherProject.id))
        .where(VoucherProject.supplier_id.in_(sampled))
        .group_by(VoucherProject.supplier_id)
    )
    if scope.kind == ScopeKind.CITY:
        counting = counting.where(VoucherProject.city_code == scope.city_code)
    elif scope.kind == ScopeKind.CLUSTER:
        counting = counting.where(VoucherProject.is_cluster.is_(True))
    totals = {supplier_id: int(n) for supplier_id, n in (await session.execute(counting)).all()}
    rows = []
    for s in suppliers:
        projects = sampled[s.id]
        outcomes = Counter(bucket(p.status) for p in projects)
        rows.append(
            SupplierRow(
                supplier_id=s.id,
                name=s.name,
                projects=totals.get(s.id, 0),
                cities=len({p.city_code for p in projects}),
                sampled=len(projects),
                outcomes={b: outcomes.get(b, 0) for b in Bucket},
                under_recheck=sum(p.under_recheck for p in projects),
                listed=s.listed,
                barred_until=s.barred_until,
            )
        )
    # the sanctioned and the most violations first, then the most sampled
    rows.sort(key=lambda r: (not r.sanctioned, -r.outcomes[Bucket.VIOLATION], -r.sampled, r.name))
    return rows


def money_total(cities: Sequence[CityProgress]) -> tuple[Decimal, Decimal, Decimal]:
    """Budget, allocated and carried over, summed over the cities whose money is shown (a city's
    money once, however many of its campaigns are rows)."""
    shown = list({c.city_code: c.money for c in cities if c.money is not None}.values())
    zero = Decimal("0.00")
    return (
        sum((m.budget for m in shown), zero),
        sum((m.allocated for m in shown), zero),
        sum((m.carried_over for m in shown), zero),
    )
