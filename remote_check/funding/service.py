"""The money of a city (资金下达): settlement periods, a draft allocation from the database, applying it.

Functions run inside the caller's transaction and audit what they change; ``principal`` is the signed-in
user (their city checked), None the command line. Applying a plan marks each
funded project ``funded`` (the applied line is the record of what it was paid) and each project the
budget could not pay ``carried_over`` (paid first next period); a period is applied once (the
database's partial unique index refuses a second), and a draft that no longer matches the database
(a project's status or amount changed since) is refused: compute it again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from remote_check.accounts.access import Principal, require_city
from remote_check.audit.service import Actor, record
from remote_check.campaigns.fields import MAX_BUDGET
from remote_check.database import FEN
from remote_check.errors import Conflict, Message, NotFound, invalid
from remote_check.funding.allocation import FUNDABLE
from remote_check.funding.models import AllocationLine, AllocationPlan, AllocationStatus, SettlementPeriod
from remote_check.funding.reading import compute
from remote_check.programme.models import City, ProjectStatus, VoucherProject
from remote_check.programme.status import check_move
from remote_check.settings import FundingSettings

NAME_LENGTH = 64
DEADLINE_YEARS = 5  # a money deadline at most this many years ahead (the warning counts its working days)


def _require_city(principal: Principal | None, city_code: str) -> None:
    """``principal`` may see the city; None is the command line, which sees every city."""
    if principal is not None:
        require_city(principal, city_code)


def _actor(principal: Principal | None) -> Actor:
    return Actor.cli() if principal is None else Actor.of(principal)


def _user_id(principal: Principal | None) -> int | None:
    return None if principal is None else principal.user_id


def checked_budget(budget: Decimal) -> Decimal:
    """A storable, non-negative amount of yuan; else a 422 naming the field."""
    if budget.is_finite() and budget < 0:
        raise invalid("预算不能为负数", "The budget cannot be negative", field="budget")
    if not budget.is_finite() or budget >= MAX_BUDGET or budget != budget.quantize(FEN):
        raise invalid(
            "预算应为小于 1 万亿元、最多 2 位小数的金额",
            "The budget is an amount below 10^12 yuan with at most 2 decimals",
            field="budget",
        )
    return budget


async def create_period(
    session: AsyncSession,
    principal: Principal | None,
    *,
    city_code: str,
    name: str,
    budget: Decimal,
    money_deadline: dt.date | None,
    settings: FundingSettings,
    now: dt.datetime,
) -> SettlementPeriod:
    """Open a settlement period of ``city_code`` (one per name); the deadline defaults to the settings'."""
    _require_city(principal, city_code)
    if await session.get(City, city_code) is None:
        raise invalid(f"未知城市代码 {city_code}", f"Unknown city code {city_code}", field="city_code")
    name = name.strip()
    if not name or len(name) > NAME_LENGTH:
        raise invalid(
            f"请填写结算期名称（最多 {NAME_LENGTH} 个字符）",
            f"Give the period's name (at most {NAME_LENGTH} characters)",
            field="name",
        )
    if money_deadline is not None and not (
        dt.date(2019, 1, 1) <= money_deadline <= dt.date(now.year + DEADLINE_YEARS, 12, 31)
    ):
        raise invalid(
            f"资金下达期限应在 2019 年至 {now.year + DEADLINE_YEARS} 年之间",
            f"The money deadline is a day from 2019 to {now.year + DEADLINE_YEARS}",
            field="money_deadline",
        )
    taken = Conflict(Message(f"结算期“{name}”已存在", f"The period {name!r} already exists"))
    period = SettlementPeriod(
        city_code=city_code,
        name=name,
        budget=checked_budget(budget),
        money_deadline=money_deadline or settings.money_deadline,
        created_at=now,
        created_by=_user_id(principal),
    )
    try:
        async with session.begin_nested():
            session.add(period)
            await session.flush()
    except IntegrityError:
        raise taken from None
    await record(
        session,
        _actor(principal),
        "period.create",
        f"period:{period.id}",
        at=now,
        city_code=city_code,
        details={"name": name, "budget": period.budget, "money_deadline": period.money_deadline.isoformat()},
    )
    return period


async def get_period(
    session: AsyncSession, principal: Principal | None, period_id: int, *, lock: bool = False
) -> SettlementPeriod:
    """The period, if ``principal`` may see its city (else 404/403); ``lock``: its row locked for the
    transaction (a draft computed and a plan applied at once wait for each other)."""
    stmt = select(SettlementPeriod).where(SettlementPeriod.id == period_id)
    period = (await session.execute(stmt.with_for_update() if lock else stmt)).scalar_one_or_none()
    if period is None:
        raise NotFound("结算期", "Settlement period")
    _require_city(principal, period.city_code)
    return period


async def list_periods(
    session: AsyncSession, principal: Principal | None, city_code: str
) -> list[SettlementPeriod]:
    _require_city(principal, city_code)
    stmt = (
        select(SettlementPeriod).where(SettlementPeriod.city_code == city_code).order_by(SettlementPeriod.id)
    )
    return list((await session.scalars(stmt)).all())


async def applied_plan(session: AsyncSession, period_id: int) -> AllocationPlan | None:
    return await session.scalar(
        select(AllocationPlan).where(
            AllocationPlan.period_id == period_id, AllocationPlan.status == AllocationStatus.APPLIED
        )
    )


async def set_budget(
    session: AsyncSession, principal: Principal | None, period_id: int, budget: Decimal, *, now: dt.datetime
) -> SettlementPeriod:
    """Change a period's budget while no plan of it is applied."""
    period = await get_period(session, principal, period_id, lock=True)
    if await applied_plan(session, period.id) is not None:
        raise Conflict(Message("该结算期的分配方案已执行，预算不能再改", "The period's plan is applied"))
    before = period.budget
    period.budget = checked_budget(budget)
    await session.flush()
    await record(
        session,
        _actor(principal),
        "period.budget",
        f"period:{period.id}",
        at=now,
        city_code=period.city_code,
        details={"before": before, "after": period.budget},
    )
    return period


def _signature(lines: Sequence[tuple[int, Decimal, Decimal, str]]) -> list[tuple[int, Decimal, Decimal, str]]:
    return sorted(lines)


async def compute_draft(
    session: AsyncSession,
    principal: Principal | None,
    period_id: int,
    settings: FundingSettings,
    *,
    now: dt.datetime,
) -> AllocationPlan:
    """Compute and store a draft plan of the period (earlier drafts are replaced)."""
    period = await get_period(session, principal, period_id, lock=True)
    if await applied_plan(session, period.id) is not None:
        raise Conflict(Message("该结算期的分配方案已执行", "The period's plan is already applied"))
    drafts = select(AllocationPlan.id).where(
        AllocationPlan.period_id == period.id, AllocationPlan.status == AllocationStatus.DRAFT
    )
    await session.execute(delete(AllocationLine).where(AllocationLine.plan_id.in_(drafts)))
    await session.execute(
        delete(AllocationPlan).where(
            AllocationPlan.period_id == period.id, AllocationPlan.status == AllocationStatus.DRAFT
        )
    )
    allocation = await compute(session, period, settings, now=now)
    plan = AllocationPlan(
        period_id=period.id,
        status=AllocationStatus.DRAFT,
        budget=allocation.budget,
        funded=allocation.funded,
        carried_over=allocation.carried_over,
        fill_gaps=settings.fill_gaps,
        created_at=now,
        created_by=_user_id(principal),
    )
    session.add(plan)
    await session.flush()
    session.add_all(
        AllocationLine(
            plan_id=plan.id,
            project_id=line.candidate.project_id,
            position=line.position,
            due=line.candidate.due,
            funded=line.funded,
            reason=line.reason,
            carried_in=line.candidate.carried_over,
            is_key=line.candidate.is_key,
        )
        for line in allocation.lines
    )
    await session.flush()
    await record(
        session,
        _actor(principal),
        "allocation.compute",
        f"allocation:{plan.id}",
        at=now,
        city_code=period.city_code,
        details={
            "period": period.id,
            "budget": plan.budget,
            "funded": plan.funded,
            "carried_over": plan.carried_over,
            "lines": len(allocation.lines),
        },
    )
    return plan


async def plan_lines(session: AsyncSession, plan_id: int) -> list[tuple[AllocationLine, VoucherProject]]:
    """A plan's lines in order, each with its project."""
    rows = await session.execute(
        select(AllocationLine, VoucherProject)
        .join(VoucherProject, VoucherProject.id == AllocationLine.project_id)
        .where(AllocationLine.plan_id == plan_id)
        .order_by(AllocationLine.position)
    )
    return [(line, project) for line, project in rows]


async def latest_plan(session: AsyncSession, period_id: int) -> AllocationPlan | None:
    """The applied plan of the period, else its newest draft."""
    return await session.scalar(
        select(AllocationPlan)
        .where(AllocationPlan.period_id == period_id)
        .order_by(AllocationPlan.status == AllocationStatus.DRAFT, AllocationPlan.id.desc())
        .limit(1)
    )


@dataclass(frozen=True)
class Applied:
    plan: AllocationPlan
    funded_projects: int
    carried_projects: int


async def _lock_city_money(session: AsyncSession, city_code: str) -> None:
    """Serialise the payments of one city: its row, then its fundable projects in id order. Two
    periods of a city applied at once would otherwise both pay a project (each locks only its own
    period); a cascade marking a project under re-check meanwhile waits for the payment, or the
    payment's fresh computation sees it."""
    await session.execute(select(City.code).where(City.code == city_code).with_for_update())
    await session.execute(
        select(VoucherProject.id)
        .where(VoucherProject.city_code == city_code, VoucherProject.status.in_(FUNDABLE))
        .order_by(VoucherProject.id)
        .with_for_update()
    )


async def apply_plan(
    session: AsyncSession,
    principal: Principal | None,
    plan_id: int,
    settings: FundingSettings,
    *,
    now: dt.datetime,
) -> Applied:
    """Apply a draft: funded projects ``funded``, the ones the money could not pay ``carried_over``."""
    period_id = await session.scalar(select(AllocationPlan.period_id).where(AllocationPlan.id == plan_id))
    if period_id is None:
        raise NotFound("分配方案", "Allocation plan")
    # the period's row first, as compute_draft and set_budget lock it: one order, no deadlock
    period = await get_period(session, principal, period_id, lock=True)
    plan = await session.scalar(select(AllocationPlan).where(AllocationPlan.id == plan_id).with_for_update())
    if plan is None:  # a new draft replaced it meanwhile
        raise NotFound("分配方案", "Allocation plan")
    already = Conflict(
        Message("该结算期的分配方案已执行，不能再次执行", "The period's plan is already applied")
    )
    if plan.status == AllocationStatus.APPLIED or await applied_plan(session, period.id) is not None:
        raise already
    await _lock_city_money(session, period.city_code)
    stored = await plan_lines(session, plan.id)
    fresh = await compute(session, period, settings, now=now)
    if (
        _signature([(ln.project_id, ln.due, ln.funded, ln.reason.value) for ln, _ in stored])
        != _signature(
            [(ln.candidate.project_id, ln.candidate.due, ln.funded, ln.reason.value) for ln in fresh.lines]
        )
        or plan.budget != period.budget
    ):
        raise Conflict(
            Message(
                "项目或预算在方案生成后已变化，请重新生成方案",
                "Projects or the budget changed since the plan was computed: compute it again",
            )
        )
    funded = carried = 0
    for line, project in stored:
        if line.reason.funded:
            check_move(project.status, ProjectStatus.FUNDED)
            project.status = ProjectStatus.FUNDED
            funded += 1
        elif line.reason.carried_over and project.status != ProjectStatus.CARRIED_OVER:
            check_move(project.status, ProjectStatus.CARRIED_OVER)
            project.status = ProjectStatus.CARRIED_OVER
            carried += 1
    plan.status = AllocationStatus.APPLIED
    plan.applied_at = now
    plan.applied_by = _user_id(principal)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        raise already from None
    await record(
        session,
        _actor(principal),
        "allocation.apply",
        f"allocation:{plan.id}",
        at=now,
        city_code=period.city_code,
        details={
            "period": period.id,
            "budget": plan.budget,
            "funded": plan.funded,
            "carried_over": plan.carried_over,
            "funded_projects": [ln.project_id for ln, _ in stored if ln.reason.funded],
            "carried_projects": [ln.project_id for ln, _ in stored if ln.reason.carried_over],
        },
    )
    return Applied(plan, funded, carried)
