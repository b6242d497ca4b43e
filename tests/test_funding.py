"""The money of a city on both databases: a period, a draft from the database, applying it once."""

from __future__ import annotations

import asyncio
import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from remote_check.accounts.access import Principal
from remote_check.accounts.models import Role
from remote_check.accounts.service import NewUser, create_user
from remote_check.audit.models import AuditEntry
from remote_check.audit.service import Actor
from remote_check.database import transaction
from remote_check.errors import DomainError
from remote_check.funding.allocation import AllocationReason
from remote_check.funding.models import AllocationLine, AllocationPlan, AllocationStatus
from remote_check.funding.service import apply_plan, compute_draft, create_period, plan_lines, set_budget
from remote_check.programme.models import ProjectStatus as S
from remote_check.programme.models import VoucherProject
from remote_check.reports.dashboard import dashboard, money_total
from remote_check.settings import FundingSettings
from tests.conftest import Database
from tests.factories import add_enterprise, add_project, add_supplier
from tests.scheduling_factories import add_campaign

NOW = dt.datetime(2020, 5, 6, 2, 0, tzinfo=dt.UTC)
FUNDING = FundingSettings(enterprise_cap=Decimal("40000"))


async def _coordinator(db: Database, city: str = "4419") -> Principal:
    async with transaction(db.factory) as session:
        user = await create_user(
            session,
            NewUser(f"coord{city}", "协调员", Role.CITY_COORDINATOR, "correct-horse-battery", city),
            actor=Actor.cli(),
            now=NOW,
        )
        return Principal(user.id, Role.CITY_COORDINATOR, city, "协调员")


async def _world(db: Database) -> dict[str, int]:
    """Dongguan's projects: each owes 30% of its contract (30,000 on 100,000), nothing paid yet."""
    async with transaction(db.factory) as session:
        a, b = await add_supplier(session), await add_supplier(session)
        barred = await add_supplier(session)
        barred.supplier.barred_until = dt.date(2025, 5, 6)
        ids: dict[str, int] = {}

        async def project(name: str, bundle: object, day: int, **kw: object) -> VoucherProject:
            p = await add_project(session, bundle, paid=Decimal(0), **kw)  # type: ignore[arg-type]
            p.redemption_requested_at = NOW - dt.timedelta(days=30 - day)
            ids[name] = p.id
            return p

        await project("early", a, 1, status=S.QUALIFIED)
        key = await project("key", b, 5, status=S.QUALIFIED)
        key.is_key_project = True
        await project("carried", a, 9, status=S.CARRIED_OVER)
        await project("barred", barred, 0, status=S.QUALIFIED)
        await project("late", b, 7, status=S.QUALIFIED)
        await project("unqualified", a, 0, status=S.UNQUALIFIED)
        twice = await add_enterprise(session)
        await project("cap", b, 8, status=S.QUALIFIED, enterprise=twice, contract=Decimal("150000"))
        await project("elsewhere", a, 0, status=S.QUALIFIED, city_code="4401")
        await session.flush()
        return ids


async def test_a_draft_funds_in_order_and_applying_it_pays_and_carries_over(db: Database) -> None:
    ids = await _world(db)
    coordinator = await _coordinator(db)
    async with transaction(db.factory) as session:
        period = await create_period(
            session,
            coordinator,
            city_code="4419",
            name="2020年第一结算期",
            budget=Decimal("80000"),
            money_deadline=None,
            settings=FUNDING,
            now=NOW,
        )
        assert period.money_deadline == dt.date(2020, 6, 30)
        plan = await compute_draft(session, coordinator, period.id, FUNDING, now=NOW)
        lines = await plan_lines(session, plan.id)
    by_id = {v: k for k, v in ids.items()}
    assert [(by_id[p.id], line.reason, line.funded) for line, p in lines] == [
        ("carried", AllocationReason.FUNDED, Decimal("30000.00")),
        ("key", AllocationReason.FUNDED, Decimal("30000.00")),
        ("barred", AllocationReason.SUPPLIER_BARRED, Decimal(0)),
        ("early", AllocationReason.BUDGET_EXHAUSTED, Decimal(0)),  # 20,000 left
        ("late", AllocationReason.BUDGET_EXHAUSTED, Decimal(0)),
        ("cap", AllocationReason.ENTERPRISE_CAP, Decimal(0)),  # 45,000 > 40,000
    ]
    assert (plan.funded, plan.carried_over) == (Decimal("60000.00"), Decimal("60000.00"))

    async with transaction(db.factory) as session:
        applied = await apply_plan(session, coordinator, plan.id, FUNDING, now=NOW)
    assert (applied.funded_projects, applied.carried_projects) == (2, 2)
    async with db.factory() as session:
        rows = {p.id: p for p in (await session.scalars(select(VoucherProject))).all()}
        actions = (await session.scalars(select(AuditEntry.action).order_by(AuditEntry.seq))).all()
    assert rows[ids["carried"]].status == S.FUNDED
    async with db.factory() as session:
        assert await paid_out(session, ids["carried"]) == Decimal("30000.00")
    assert rows[ids["carried"]].amount_paid == Decimal(0)  # the enterprise's contract payment stays as it was
    assert rows[ids["key"]].status == S.FUNDED
    assert rows[ids["early"]].status == S.CARRIED_OVER
    assert rows[ids["late"]].status == S.CARRIED_OVER
    assert rows[ids["barred"]].status == S.QUALIFIED
    assert rows[ids["cap"]].status == S.QUALIFIED
    assert rows[ids["elsewhere"]].status == S.QUALIFIED
    assert actions[-3:] == ["period.create", "allocation.compute", "allocation.apply"]

    # a second apply is refused and changes nothing
    with pytest.raises(DomainError) as refused:
        async with transaction(db.factory) as session:
            await apply_plan(session, coordinator, plan.id, FUNDING, now=NOW)
    assert refused.value.status == 409

    # next period: the carried-over projects come first
    async with transaction(db.factory) as session:
        second = await create_period(
            session,
            coordinator,
            city_code="4419",
            name="2020年第二结算期",
            budget=Decimal("30000"),
            money_deadline=dt.date(2020, 12, 31),
            settings=FUNDING,
            now=NOW,
        )
        plan2 = await compute_draft(session, coordinator, second.id, FUNDING, now=NOW)
        lines2 = await plan_lines(session, plan2.id)
    assert [(by_id[p.id], line.reason) for line, p in lines2][:2] == [
        ("early", AllocationReason.FUNDED),
        ("late", AllocationReason.BUDGET_EXHAUSTED),
    ]
    assert all(line.carried_in for line, _ in lines2[:2])


async def test_a_stale_draft_is_refused_and_a_bad_budget_changes_nothing(db: Database) -> None:
    ids = await _world(db)
    coordinator = await _coordinator(db)
    async with transaction(db.factory) as session:
        period = await create_period(
            session,
            coordinator,
            city_code="4419",
            name="P1",
            budget=Decimal("80000"),
            money_deadline=None,
            settings=FUNDING,
            now=NOW,
        )
        plan = await compute_draft(session, coordinator, period.id, FUNDING, now=NOW)
    async with transaction(db.factory) as session:
        project = await session.get(VoucherProject, ids["key"])
        assert project is not None
        project.under_recheck = True
    with pytest.raises(DomainError) as stale:
        async with transaction(db.factory) as session:
            await apply_plan(session, coordinator, plan.id, FUNDING, now=NOW)
    assert stale.value.status == 409
    assert "compute it again" in stale.value.message.en
    for bad in (Decimal("-1"), Decimal("0.001"), Decimal("NaN")):
        with pytest.raises(DomainError) as refused:
            async with transaction(db.factory) as session:
                await set_budget(session, coordinator, period.id, bad, now=NOW)
        assert refused.value.status == 422
    async with db.factory() as session:
        project = await session.get(VoucherProject, ids["carried"])
        assert project is not None
        assert project.status == S.CARRIED_OVER
    async with transaction(db.factory) as session:
        plan = await compute_draft(session, coordinator, period.id, FUNDING, now=NOW)
        await apply_plan(session, coordinator, plan.id, FUNDING, now=NOW)
        assert plan.status == AllocationStatus.APPLIED


async def test_another_city_is_refused(db: Database) -> None:
    coordinator = await _coordinator(db, "4401")
    with pytest.raises(DomainError) as refused:
        async with transaction(db.factory) as session:
            await create_period(
                session,
                coordinator,
                city_code="4419",
                name="P",
                budget=Decimal(1),
                money_deadline=None,
                settings=FUNDING,
                now=NOW,
            )
    assert refused.value.status == 403


async def test_two_applies_at_once_pay_once(db: Database) -> None:
    ids = await _world(db)
    coordinator = await _coordinator(db)
    async with transaction(db.factory) as session:
        period = await create_period(
            session,
            coordinator,
            city_code="4419",
            name="P1",
            budget=Decimal("80000"),
            money_deadline=None,
            settings=FUNDING,
            now=NOW,
        )
        plan = await compute_draft(session, coordinator, period.id, FUNDING, now=NOW)

    async def apply_once() -> int:
        try:
            async with transaction(db.factory) as session:
                await apply_plan(session, coordinator, plan.id, FUNDING, now=NOW)
        except DomainError as exc:
            return exc.status
        return 200

    results = await asyncio.gather(apply_once(), apply_once())
    assert sorted(results) == [200, 409]
    async with db.factory() as session:
        assert await paid_out(session, ids["key"]) == Decimal("30000.00")  # paid once


async def test_two_periods_of_a_city_applied_at_once_never_pay_a_project_twice(db: Database) -> None:
    ids = await _world(db)
    coordinator = await _coordinator(db)
    plans = []
    for name in ("P1", "P2"):
        async with transaction(db.factory) as session:
            period = await create_period(
                session,
                coordinator,
                city_code="4419",
                name=name,
                budget=Decimal("80000"),
                money_deadline=None,
                settings=FUNDING,
                now=NOW,
            )
            plans.append((await compute_draft(session, coordinator, period.id, FUNDING, now=NOW)).id)

    async def apply_once(plan_id: int) -> int:
        try:
            async with transaction(db.factory) as session:
                await apply_plan(session, coordinator, plan_id, FUNDING, now=NOW)
        except DomainError as exc:
            return exc.status
        return 200

    results = await asyncio.gather(*(apply_once(p) for p in plans))
    assert sorted(results) == [200, 409]  # the second was computed before the first paid: compute it again
    async with db.factory() as session:
        for project in ids.values():
            assert await paid_out(session, project) in (Decimal(0), Decimal("30000.00"), Decimal("45000.00"))
        assert await paid_out(session, ids["key"]) == Decimal("30000.00")


async def test_a_money_deadline_far_away_is_refused(db: Database) -> None:
    coordinator = await _coordinator(db)
    for day in (dt.date(2018, 12, 31), dt.date(2026, 1, 1)):
        with pytest.raises(DomainError) as refused:
            async with transaction(db.factory) as session:
                await create_period(
                    session,
                    coordinator,
                    city_code="4419",
                    name="P",
                    budget=Decimal(1),
                    money_deadline=day,
                    settings=FUNDING,
                    now=NOW,
                )
        assert refused.value.status == 422
        assert refused.value.details == [{"field": "money_deadline"}]


async def paid_out(session: AsyncSession, project_id: int) -> Decimal:
    """What applied plans paid the project."""
    total = await session.scalar(
        select(func.sum(AllocationLine.funded))
        .join(AllocationPlan, AllocationPlan.id == AllocationLine.plan_id)
        .where(AllocationLine.project_id == project_id, AllocationPlan.status == AllocationStatus.APPLIED)
    )
    return Decimal(total or 0)


async def test_the_dashboard_counts_a_citys_money_once_however_many_campaigns_it_has(db: Database) -> None:
    await _world(db)
    coordinator = await _coordinator(db)
    async with transaction(db.factory) as session:
        city = select(VoucherProject).where(VoucherProject.city_code == "4419").order_by(VoucherProject.id)
        projects = list((await session.scalars(city)).all())
        await add_campaign(session, projects[:2], deadline=dt.date(2020, 6, 30), city="4419", period="2019")
        await add_campaign(session, projects[2:4], deadline=dt.date(2020, 12, 30), city="4419", period="2020")
        await create_period(
            session,
            coordinator,
            city_code="4419",
            name="P1",
            budget=Decimal("80000"),
            money_deadline=None,
            settings=FUNDING,
            now=NOW,
        )
    async with db.factory() as session:
        board = await dashboard(
            session, Principal(0, Role.PROVINCE_ADMIN, None, "省"), today=dt.date(2020, 5, 6)
        )
    assert [c.city_code for c in board.cities] == ["4419", "4419"]  # one row per campaign
    assert money_total(board.cities)[0] == Decimal("80000.00")
