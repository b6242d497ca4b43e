"""A plan's lines as CSV (Chinese headers first, the English after a slash; a BOM for Excel)."""

from __future__ import annotations

from remote_check.clock import SHANGHAI
from remote_check.funding.allocation import REASON_LABELS
from remote_check.funding.models import AllocationLine, AllocationPlan
from remote_check.programme.models import VoucherProject
from remote_check.tabular import csv_text

HEADER = (
    "序号/Position",
    "项目编号/Project",
    "结转/Carried in",
    "重点项目/Key",
    "申请兑现时间/Requested at",
    "应付（元）/Due (yuan)",
    "拨付（元）/Funded (yuan)",
    "原因代码/AllocationReason code",
    "原因/AllocationReason",
)


def plan_csv(plan: AllocationPlan, lines: list[tuple[AllocationLine, VoucherProject]]) -> str:
    """The plan's lines in order, then its totals."""
    rows: list[list[object]] = [list(HEADER)]
    for line, project in lines:
        label = REASON_LABELS[line.reason]
        rows.append(
            [
                line.position,
                project.code,
                "是/yes" if line.carried_in else "",
                "是/yes" if line.is_key else "",
                project.redemption_requested_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M"),
                f"{line.due:.2f}",
                f"{line.funded:.2f}",
                line.reason.value,
                f"{label.zh} / {label.en}",
            ]
        )
    rows.append(["", "预算/Budget", "", "", "", "", f"{plan.budget:.2f}", "", ""])
    rows.append(["", "拨付合计/Funded", "", "", "", "", f"{plan.funded:.2f}", "", ""])
    rows.append(["", "结转合计/Carried over", "", "", "", f"{plan.carried_over:.2f}", "", "", ""])
    rows.append(["", "预算余额/Remaining", "", "", "", "", f"{plan.budget - plan.funded:.2f}", "", ""])
    return csv_text(rows, bom=True)
