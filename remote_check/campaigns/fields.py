"""A new campaign's fields checked against the columns that store them (pure).

The API's :class:`~remote_check.campaigns.schemas.CampaignCreate` refuses the same input
earlier; these checks keep every other caller (the pages, the ``sample`` command) from reaching
the database with a value it cannot store.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from remote_check.database import FEN
from remote_check.errors import invalid

PERIOD_LENGTH = 32  # Campaign.period
TITLE_LENGTH = 200  # Campaign.title
MAX_BUDGET = Decimal(10) ** 12  # yuan: CampaignCreate's max_digits=14, decimal_places=2


@dataclass(frozen=True)
class CampaignFields:
    period: str
    title: str
    budget: Decimal


def checked_fields(period: str, title: str, budget: Decimal) -> CampaignFields:
    """Period and title stripped and within their lengths, the budget a storable amount of yuan;
    else a 422 naming the field."""
    period, title = period.strip(), title.strip()
    if not period:
        raise invalid("请填写抽查年度", "Give the period", field="period")
    if len(period) > PERIOD_LENGTH:
        raise invalid(
            f"抽查年度最多 {PERIOD_LENGTH} 个字符",
            f"The period has at most {PERIOD_LENGTH} characters",
            field="period",
        )
    if len(title) > TITLE_LENGTH:
        raise invalid(
            f"标题最多 {TITLE_LENGTH} 个字符",
            f"The title has at most {TITLE_LENGTH} characters",
            field="title",
        )
    if budget.is_finite() and budget < 0:
        raise invalid("预算不能为负数", "The budget cannot be negative", field="budget")
    if not budget.is_finite() or budget >= MAX_BUDGET or budget != budget.quantize(FEN):
        raise invalid(
            "预算应为小于 1 万亿元、最多 2 位小数的金额",
            "The budget is an amount below 10^12 yuan with at most 2 decimals",
            field="budget",
        )
    return CampaignFields(period, title, budget)
