"""The allocation of a settlement period's budget to qualified projects (资金下达, notice 五(四)).

Pure: :func:`allocate` takes a :class:`Budget` and :class:`Candidate` projects and returns one
:class:`Line` per candidate, each with its funded amount and the reason. The rules
(docs/decisions/0006-allocation.md):

- order: projects carried over from an earlier period first (在下一结算期予以优先拨付), then key
  projects (保障重点项目), then by redemption request time (申请兑现时间先到先得), ties by project code;
- a project is funded whole or not at all (the notice speaks of a project's redemption, 兑现, being
  made or not; a part payment is neither);
- refused (no money, not carried over): a project that is not qualified, whose enterprise or
  supplier is barred, that is under re-check (重点核查), or that would take its enterprise or its
  supplier above their cap (caps count what earlier periods paid them);
- carried over (结转下期): a qualified project the budget cannot pay. By default the line *stops* at
  the first such project: no later applicant is paid before an earlier one (先到先得), and that one
  is paid first next period. ``fill_gaps=True`` lets smaller later projects use what is left;
- never above the budget or a cap; exact :class:`~decimal.Decimal`; the same input gives the same
  output (the candidates' given order does not matter).
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from remote_check.errors import Message
from remote_check.programme.models import ProjectStatus

ZERO = Decimal("0")

# Statuses a project may be funded from: qualified by its check, or carried over from a period before.
FUNDABLE = frozenset({ProjectStatus.QUALIFIED, ProjectStatus.CARRIED_OVER})


class AllocationReason(enum.StrEnum):
    """Why a line was, or was not, funded."""

    FUNDED = "funded"
    BUDGET_EXHAUSTED = "budget_exhausted"  # carried over to the next period
    NOT_QUALIFIED = "not_qualified"
    NOTHING_DUE = "nothing_due"
    UNDER_RECHECK = "under_recheck"
    ENTERPRISE_BARRED = "enterprise_barred"
    SUPPLIER_BARRED = "supplier_barred"
    ENTERPRISE_CAP = "enterprise_cap"
    SUPPLIER_CAP = "supplier_cap"

    @property
    def funded(self) -> bool:
        return self is AllocationReason.FUNDED

    @property
    def carried_over(self) -> bool:
        return self is AllocationReason.BUDGET_EXHAUSTED


REASON_LABELS: dict[AllocationReason, Message] = {
    AllocationReason.FUNDED: Message("予以兑现", "Funded"),
    AllocationReason.BUDGET_EXHAUSTED: Message(
        "预算不足，结转下一结算期优先拨付", "Budget exhausted: carried over, paid first next period"
    ),
    AllocationReason.NOT_QUALIFIED: Message("未经核查合格，不予兑现", "Refused: not qualified"),
    AllocationReason.NOTHING_DUE: Message("无应付金额", "Nothing left to pay"),
    AllocationReason.UNDER_RECHECK: Message("重点核查中，暂不兑现", "Refused: under re-check"),
    AllocationReason.ENTERPRISE_BARRED: Message(
        "企业处于禁止申报期，不予兑现", "Refused: the enterprise is barred"
    ),
    AllocationReason.SUPPLIER_BARRED: Message(
        "服务商处于禁止申报期，不予兑现", "Refused: the supplier is barred"
    ),
    AllocationReason.ENTERPRISE_CAP: Message(
        "超出企业奖补上限，不予兑现", "Refused: above the enterprise's cap"
    ),
    AllocationReason.SUPPLIER_CAP: Message(
        "超出服务商奖补上限，不予兑现", "Refused: above the supplier's cap"
    ),
}


@dataclass(frozen=True)
class Candidate:
    """A project that may be paid: ``due`` is what is to be paid (voucher amount - amount paid)."""

    project_id: int
    code: str
    enterprise_id: int
    supplier_id: int
    due: Decimal
    redemption_requested_at: dt.datetime
    status: ProjectStatus = ProjectStatus.QUALIFIED
    is_key: bool = False
    under_recheck: bool = False
    enterprise_barred: bool = False
    supplier_barred: bool = False

    @property
    def carried_over(self) -> bool:
        """Left unfunded by an earlier period for want of money: paid first."""
        return self.status == ProjectStatus.CARRIED_OVER


@dataclass(frozen=True)
class Budget:
    """The period's money and the caps (None: no cap).

    ``supplier_caps`` overrides ``supplier_cap`` for a supplier (its own ``cap_amount``);
    ``paid_to_enterprise``/``paid_to_supplier`` are what earlier periods already paid them, which
    counts against their caps.
    """

    amount: Decimal
    enterprise_cap: Decimal | None = None
    supplier_cap: Decimal | None = None
    supplier_caps: Mapping[int, Decimal] = field(default_factory=dict)
    paid_to_enterprise: Mapping[int, Decimal] = field(default_factory=dict)
    paid_to_supplier: Mapping[int, Decimal] = field(default_factory=dict)
    fill_gaps: bool = False

    def cap_of_supplier(self, supplier_id: int) -> Decimal | None:
        return self.supplier_caps.get(supplier_id, self.supplier_cap)


@dataclass(frozen=True)
class Line:
    """One project's place in the plan: ``position`` counts from 1 in the funding order."""

    position: int
    candidate: Candidate
    funded: Decimal
    reason: AllocationReason


@dataclass(frozen=True)
class Allocation:
    """The plan: its lines in order and the totals."""

    budget: Decimal
    lines: list[Line]

    @property
    def funded(self) -> Decimal:
        return sum((line.funded for line in self.lines), ZERO)

    @property
    def carried_over(self) -> Decimal:
        return sum((line.candidate.due for line in self.lines if line.reason.carried_over), ZERO)

    @property
    def remaining(self) -> Decimal:
        return self.budget - self.funded


def order_key(candidate: Candidate) -> tuple[bool, bool, dt.datetime, str, int]:
    """The funding order: carried over, key, request time, code (and id, for equal codes)."""
    return (
        not candidate.carried_over,
        not candidate.is_key,
        candidate.redemption_requested_at,
        candidate.code,
        candidate.project_id,
    )


def refusal(candidate: Candidate) -> AllocationReason | None:
    """Why ``candidate`` may not be paid whatever the money, or None."""
    if candidate.status not in FUNDABLE:
        return AllocationReason.NOT_QUALIFIED
    if candidate.enterprise_barred:
        return AllocationReason.ENTERPRISE_BARRED
    if candidate.supplier_barred:
        return AllocationReason.SUPPLIER_BARRED
    if candidate.under_recheck:
        return AllocationReason.UNDER_RECHECK
    if candidate.due <= ZERO:
        return AllocationReason.NOTHING_DUE
    return None


def allocate(budget: Budget, candidates: Iterable[Candidate]) -> Allocation:
    """The plan for ``candidates`` within ``budget`` (see the module's docstring)."""
    if budget.amount < ZERO:
        raise ValueError("the budget cannot be negative")
    left = budget.amount
    by_enterprise: dict[int, Decimal] = dict(budget.paid_to_enterprise)
    by_supplier: dict[int, Decimal] = dict(budget.paid_to_supplier)
    stopped = False
    lines: list[Line] = []
    for position, candidate in enumerate(sorted(candidates, key=order_key), start=1):
        reason = refusal(candidate)
        if reason is None:
            enterprise_total = by_enterprise.get(candidate.enterprise_id, ZERO) + candidate.due
            supplier_total = by_supplier.get(candidate.supplier_id, ZERO) + candidate.due
            supplier_cap = budget.cap_of_supplier(candidate.supplier_id)
            if budget.enterprise_cap is not None and enterprise_total > budget.enterprise_cap:
                reason = AllocationReason.ENTERPRISE_CAP
            elif supplier_cap is not None and supplier_total > supplier_cap:
                reason = AllocationReason.SUPPLIER_CAP
            elif stopped or candidate.due > left:
                reason = AllocationReason.BUDGET_EXHAUSTED
                stopped = not budget.fill_gaps
            else:
                reason = AllocationReason.FUNDED
                left -= candidate.due
                by_enterprise[candidate.enterprise_id] = enterprise_total
                by_supplier[candidate.supplier_id] = supplier_total
        funded = candidate.due if reason.funded else ZERO
        lines.append(Line(position, candidate, funded, reason))
    return Allocation(budget.amount, lines)
