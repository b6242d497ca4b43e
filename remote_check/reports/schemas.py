"""Response shapes of the reports API: the dashboard and the filed reports."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pydantic import BaseModel, Field

from remote_check.accounts.access import ScopeKind
from remote_check.reports.content import Bucket, ReportKind
from remote_check.reports.dashboard import CityProgress, Dashboard, SupplierRow
from remote_check.reports.filing import FilingView


class MoneyOut(BaseModel):
    budget: Decimal
    allocated: Decimal
    allocated_projects: int
    carried_over: Decimal
    carried_over_projects: int


class CityProgressOut(BaseModel):
    campaign_id: int
    city_code: str
    period: str
    deadline: dt.date
    days_left: int
    sampled: int
    planned: int = Field(description="sampled projects whose check is booked (or later)")
    checked: int = Field(description="sampled projects whose check is done or has an outcome")
    remaining: int
    overdue: bool
    outcomes: dict[Bucket, int]
    money: MoneyOut | None = Field(
        description="null for alliance staff (the city's money is not the cluster's)"
    )


class SupplierOut(BaseModel):
    supplier_id: int
    name: str
    projects: int = Field(description="all its voucher projects in view, sampled or not")
    cities: int
    sampled: int
    outcomes: dict[Bucket, int]
    under_recheck: int
    listed: bool
    barred_until: dt.date | None


class DashboardOut(BaseModel):
    scope: ScopeKind
    today: dt.date
    cities: list[CityProgressOut]
    suppliers: list[SupplierOut]
    not_started: list[str] = Field(description="cities of the round in view with no published sample yet")


def _city(c: CityProgress) -> CityProgressOut:
    m = c.money
    return CityProgressOut(
        campaign_id=c.campaign_id,
        city_code=c.city_code,
        period=c.period,
        deadline=c.deadline,
        days_left=c.days_left,
        sampled=c.sampled,
        planned=c.planned,
        checked=c.checked,
        remaining=c.remaining,
        overdue=c.overdue,
        outcomes=c.outcomes,
        money=None
        if m is None
        else MoneyOut(
            budget=m.budget,
            allocated=m.allocated,
            allocated_projects=m.allocated_projects,
            carried_over=m.carried_over,
            carried_over_projects=m.carried_over_projects,
        ),
    )


def _supplier(s: SupplierRow) -> SupplierOut:
    return SupplierOut(
        supplier_id=s.supplier_id,
        name=s.name,
        projects=s.projects,
        cities=s.cities,
        sampled=s.sampled,
        outcomes=s.outcomes,
        under_recheck=s.under_recheck,
        listed=s.listed,
        barred_until=s.barred_until,
    )


def dashboard_out(board: Dashboard) -> DashboardOut:
    return DashboardOut(
        scope=board.scope.kind,
        today=board.today,
        cities=[_city(c) for c in board.cities],
        suppliers=[_supplier(s) for s in board.suppliers],
        not_started=board.not_started,
    )


class FilingOut(BaseModel):
    id: int
    campaign_id: int
    city_code: str
    period: str
    kind: ReportKind
    current: bool = Field(description="false once a later filing of the campaign and kind supersedes it")
    supersedes_id: int | None
    filed_at: dt.datetime
    filed_by: int | None
    note: str
    xlsx_sha256: str
    xlsx_size: int
    pdf_sha256: str
    pdf_size: int
    xlsx_url: str
    pdf_url: str


class FilingList(BaseModel):
    items: list[FilingOut]


def filing_out(view: FilingView) -> FilingOut:
    f = view.filing
    return FilingOut(
        id=f.id,
        campaign_id=f.campaign_id,
        city_code=f.city_code,
        period=view.period,
        kind=f.kind,
        current=view.current,
        supersedes_id=f.supersedes_id,
        filed_at=f.filed_at,
        filed_by=f.filed_by,
        note=f.note,
        xlsx_sha256=f.xlsx_sha256,
        xlsx_size=f.xlsx_size,
        pdf_sha256=f.pdf_sha256,
        pdf_size=f.pdf_size,
        xlsx_url=f"/reports/filings/{f.id}.xlsx",
        pdf_url=f"/reports/filings/{f.id}.pdf",
    )
