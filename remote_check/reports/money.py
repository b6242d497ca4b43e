"""The money figures of a city's campaign: the one function the reports and the dashboard read.

For now they come from the projects themselves (status ``funded`` / ``carried_over``, their voucher
amounts); when the funding package (budgets per settlement period, the allocation) is merged, the
lead switches :func:`money_figures` to read the allocation instead, and nothing else changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from remote_check.campaigns.models import Campaign
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
    """The campaign city's allocated (``funded``) and carried-over voucher amounts, with counts."""
    rows = (
        await session.execute(
            select(
                VoucherProject.status, func.count(VoucherProject.id), func.sum(VoucherProject.voucher_amount)
            )
            .where(
                VoucherProject.city_code == campaign.city_code,
                VoucherProject.status.in_((ProjectStatus.FUNDED, ProjectStatus.CARRIED_OVER)),
            )
            .group_by(VoucherProject.status)
        )
    ).all()
    found = {status: (int(n), Decimal(total or 0).quantize(ZERO)) for status, n, total in rows}
    funded = found.get(ProjectStatus.FUNDED, (0, ZERO))
    carried = found.get(ProjectStatus.CARRIED_OVER, (0, ZERO))
    return MoneyFigures(campaign.budget, funded[1], funded[0], carried[1], carried[0])
