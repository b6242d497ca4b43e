"""Request and response shapes of the money API (资金下达)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from remote_check.funding.allocation import REASON_LABELS, AllocationReason
from remote_check.funding.models import AllocationLine, AllocationPlan, AllocationStatus, SettlementPeriod
from remote_check.programme.models import ProjectStatus, VoucherProject


class PeriodCreate(BaseModel):
    """A settlement period; ``money_deadline`` defaults to the ``funding.money_deadline`` setting."""

    model_config = ConfigDict(extra="forbid")

    city_code: str = Field(pattern=r"^\d{4}$")
    name: str = Field(min_length=1, max_length=64)
    budget: Decimal = Field(ge=0, max_digits=14, decimal_places=2)
    money_deadline: dt.date | None = None


class BudgetChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    budget: Decimal = Field(ge=0, max_digits=14, decimal_places=2)


class PlanCompute(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PeriodOut(BaseModel):
    id: int
    city_code: str
    name: str
    budget: Decimal
    money_deadline: dt.date
    created_at: dt.datetime


class PeriodList(BaseModel):
    items: list[PeriodOut]


class LineOut(BaseModel):
    position: int
    project_id: int
    project_code: str
    project_status: ProjectStatus
    key_project: bool
    carried_in: bool = Field(description="carried over from an earlier period (paid first)")
    redemption_requested_at: dt.datetime
    due: Decimal
    funded: Decimal
    reason: AllocationReason
    reason_label: str


class PlanOut(BaseModel):
    id: int
    period_id: int
    status: AllocationStatus
    budget: Decimal
    funded: Decimal
    carried_over: Decimal
    remaining: Decimal
    fill_gaps: bool
    created_at: dt.datetime
    applied_at: dt.datetime | None
    lines: list[LineOut]


class DeadlineOut(BaseModel):
    """Whether a city's remaining checks can finish before its money deadline."""

    city_code: str
    deadline: dt.date
    last_check_day: dt.date | None
    working_days: int
    rooms: int
    checks_per_room_day: int
    capacity: int
    remaining: int
    booked_late: int
    at_risk: bool
    message: str


def period_out(period: SettlementPeriod) -> PeriodOut:
    return PeriodOut(
        id=period.id,
        city_code=period.city_code,
        name=period.name,
        budget=period.budget,
        money_deadline=period.money_deadline,
        created_at=period.created_at,
    )


def plan_out(plan: AllocationPlan, lines: list[tuple[AllocationLine, VoucherProject]], lang: str) -> PlanOut:
    return PlanOut(
        id=plan.id,
        period_id=plan.period_id,
        status=plan.status,
        budget=plan.budget,
        funded=plan.funded,
        carried_over=plan.carried_over,
        remaining=plan.budget - plan.funded,
        fill_gaps=plan.fill_gaps,
        created_at=plan.created_at,
        applied_at=plan.applied_at,
        lines=[
            LineOut(
                position=line.position,
                project_id=project.id,
                project_code=project.code,
                project_status=project.status,
                key_project=line.is_key,
                carried_in=line.carried_in,
                redemption_requested_at=project.redemption_requested_at,
                due=line.due,
                funded=line.funded,
                reason=line.reason,
                reason_label=REASON_LABELS[line.reason].in_lang(lang),
            )
            for line, project in lines
        ],
    )
