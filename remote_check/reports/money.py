"""The money figures of a city's campaign: the one function the reports and the dashboard read.

They come from the city's allocation (:mod:`remote_check.funding`): the budget is the sum of its
settlement periods' budgets (the campaign's own budget while it has none), what was allocated is
what its applied plans funded, and what is carried over is the qualified projects waiting for the
next period's money now.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from remote_check.campaigns.models import Campaign
from remote_check.funding.models import AllocationLine, AllocationPlan, AllocationStatus, SettlementPeriod
from remote_check.programme.models import ProjectStatus, VoucherProject

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class MoneyFigures:
    """A city's money for a campaign: its budget, what was allocated and what was carried over."""

    budget: Decimal
    allocated: Decimal
    allocated_projects: int
    carried_over: Decimal
    carried_over_projects: int

    @property
    def remaining(self) -> Decimal:
        return self.budget - self.allocated


async def money_figures(session: AsyncSession, campaign: Campaign) -> MoneyFigures:
    """The campaign city's budget, allocated (by applied plans) and carried-over amounts, with counts."""
    city = campaign.city_code
    periods = select(SettlementPeriod.id).where(SettlementPeriod.city_code == city)
    budgets = (
        await session.execute(
            select(func.count(), func.sum(SettlementPeriod.budget)).where(SettlementPeriod.city_code == city)
        )
    ).one()
    budget = Decimal(budgets[1]).quantize(ZERO) if budgets[0] else campaign.budget
    funded = (
        await session.execute(
            select(func.count(AllocationLine.id), func.sum(AllocationLine.funded))
            .join(AllocationPlan, AllocationPlan.id == AllocationLine.plan_id)
            .where(
                AllocationPlan.period_id.in_(periods),
                AllocationPlan.status == AllocationStatus.APPLIED,
                AllocationLine.funded > ZERO,
            )
        )
    ).one()
    carried = (
        await session.execute(
            # a voucher's due is its subsidy (as in the allocation); summing the column keeps its
            # Money type, so the stored fen come back as yuan
            select(func.count(VoucherProject.id), func.sum(VoucherProject.voucher_amount)).where(
                VoucherProject.city_code == city, VoucherProject.status == ProjectStatus.CARRIED_OVER
            )
        )
    ).one()
    return MoneyFigures(
        budget,
        Decimal(funded[1] or 0).quantize(ZERO),
        int(funded[0]),
        Decimal(carried[1] or 0).quantize(ZERO),
        int(carried[0]),
    )
