"""What the allocation of a period reads from the database: the candidates, the caps, earlier payments."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from remote_check.clock import SHANGHAI
from remote_check.funding.allocation import FUNDABLE, Allocation, Budget, Candidate, allocate
from remote_check.funding.models import AllocationLine, AllocationPlan, AllocationStatus, SettlementPeriod
from remote_check.programme.models import Enterprise, Supplier, VoucherProject
from remote_check.settings import FundingSettings


async def candidates(session: AsyncSession, city_code: str, *, today: dt.date) -> list[Candidate]:
    """The city's qualified and carried-over projects as the allocation sees them.

    Barred: the enterprise's or the supplier's ``barred_until`` is today or later (the bars register
    of the sanctions, once merged, sets those columns).
    """
    rows = (
        await session.execute(
            select(VoucherProject, Enterprise.barred_until, Supplier.barred_until)
            .join(Enterprise, Enterprise.id == VoucherProject.enterprise_id)
            .join(Supplier, Supplier.id == VoucherProject.supplier_id)
            .where(VoucherProject.city_code == city_code, VoucherProject.status.in_(FUNDABLE))
            .order_by(VoucherProject.id)
        )
    ).all()
    return [
        Candidate(
            project_id=p.id,
            code=p.code,
            enterprise_id=p.enterprise_id,
            supplier_id=p.supplier_id,
            due=p.voucher_amount,  # the subsidy; amount_paid is what the enterprise paid on its contract
            redemption_requested_at=p.redemption_requested_at,
            status=p.status,
            is_key=p.is_key_project,
            under_recheck=p.under_recheck,
            enterprise_barred=e_until is not None and e_until >= today,
            supplier_barred=s_until is not None and s_until >= today,
        )
        for p, e_until, s_until in rows
    ]


async def _paid_by(session: AsyncSession, column: object, ids: set[int]) -> dict[int, Decimal]:
    """What the projects of these enterprises or suppliers (every city) were paid by applied plans."""
    if not ids:
        return {}
    rows = (
        await session.execute(
            select(column, func.sum(AllocationLine.funded))  # type: ignore[call-overload]
            .join(VoucherProject, VoucherProject.id == AllocationLine.project_id)
            .join(AllocationPlan, AllocationPlan.id == AllocationLine.plan_id)
            .where(column.in_(ids), AllocationPlan.status == AllocationStatus.APPLIED)  # type: ignore[attr-defined]
            .group_by(column)
        )
    ).all()
    return {int(key): Decimal(total or 0) for key, total in rows}


async def compute(
    session: AsyncSession, period: SettlementPeriod, settings: FundingSettings, *, now: dt.datetime
) -> Allocation:
    """The allocation the database gives now for ``period`` (nothing stored)."""
    found = await candidates(session, period.city_code, today=now.astimezone(SHANGHAI).date())
    supplier_ids = {c.supplier_id for c in found}
    own_caps = (
        await session.execute(
            select(Supplier.id, Supplier.cap_amount).where(
                Supplier.id.in_(supplier_ids), Supplier.cap_amount.is_not(None)
            )
        )
    ).all()
    budget = Budget(
        amount=period.budget,
        enterprise_cap=settings.enterprise_cap,
        supplier_cap=settings.supplier_cap,
        supplier_caps={sid: cap for sid, cap in own_caps if cap is not None},
        paid_to_enterprise=await _paid_by(
            session, VoucherProject.enterprise_id, {c.enterprise_id for c in found}
        ),
        paid_to_supplier=await _paid_by(session, VoucherProject.supplier_id, supplier_ids),
        fill_gaps=settings.fill_gaps,
    )
    return allocate(budget, found)
