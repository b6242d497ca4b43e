"""Tables of the money (资金下达): settlement periods with their budget, allocation plans and their lines."""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from remote_check.database import Base, Money, UTCDateTime
from remote_check.funding.allocation import AllocationReason
from remote_check.programme.models import enum_column


class AllocationStatus(enum.StrEnum):
    DRAFT = "draft"
    APPLIED = "applied"


class SettlementPeriod(Base):
    """A city's settlement period (结算期): the budget it may pay out and the day the money is due."""

    __tablename__ = "settlement_periods"
    __table_args__ = (UniqueConstraint("city_code", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    city_code: Mapped[str] = mapped_column(ForeignKey("cities.code"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    budget: Mapped[Decimal] = mapped_column(Money())
    money_deadline: Mapped[dt.date] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class AllocationPlan(Base):
    """One computation of a period's allocation; applied at most once per period.

    The partial unique index makes the database itself refuse a second applied plan of a period.
    """

    __tablename__ = "allocation_plans"
    __table_args__ = (
        Index(
            "uq_allocation_plans_applied_period_id",
            "period_id",
            unique=True,
            sqlite_where=text("status = 'applied'"),
            postgresql_where=text("status = 'applied'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("settlement_periods.id"), index=True)
    status: Mapped[AllocationStatus] = mapped_column(
        enum_column(AllocationStatus, "allocation_plan_status"), default=AllocationStatus.DRAFT
    )
    budget: Mapped[Decimal] = mapped_column(Money())
    funded: Mapped[Decimal] = mapped_column(Money())
    carried_over: Mapped[Decimal] = mapped_column(Money())
    fill_gaps: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    applied_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    applied_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    lines: Mapped[list[AllocationLine]] = relationship(
        back_populates="plan", lazy="raise", order_by="AllocationLine.position"
    )


class AllocationLine(Base):
    """A project's line in a plan: what was due, what it is paid and why."""

    __tablename__ = "allocation_lines"
    __table_args__ = (UniqueConstraint("plan_id", "project_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("allocation_plans.id", ondelete="CASCADE"), index=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("voucher_projects.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    due: Mapped[Decimal] = mapped_column(Money())
    funded: Mapped[Decimal] = mapped_column(Money())
    reason: Mapped[AllocationReason] = mapped_column(enum_column(AllocationReason, "allocation_reason"))
    carried_in: Mapped[bool] = mapped_column(Boolean, default=False)  # carried over from a period before
    is_key: Mapped[bool] = mapped_column(Boolean, default=False)

    plan: Mapped[AllocationPlan] = relationship(back_populates="lines", lazy="raise")
