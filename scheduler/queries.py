"""Reading check sessions and experts, always within the caller's scope."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from remote_check.accounts.access import Principal
from remote_check.accounts.models import Role
from remote_check.clock import SHANGHAI
from remote_check.experts.models import Expert
from remote_check.programme.models import Enterprise, ProjectStatus, Supplier, VoucherProject
from scheduler.access import scope_sessions, scoped
from scheduler.booking import conflict_reasons
from scheduler.models import VOID, Booking, CheckSession, Guest, PanelRole, PanelSeat, SessionStatus
from scheduler.rules import Parties, load_parties, load_session

PAGE_SIZE = 50


@dataclass(frozen=True)
class SessionFilter:
    city_code: str | None = None
    status: SessionStatus | None = None
    project_id: int | None = None
    expert_id: int | None = None
    supplier_id: int | None = None
    date_from: dt.date | None = None  # local (Asia/Shanghai) dates, inclusive
    date_to: dt.date | None = None


@dataclass(frozen=True)
class SessionRow:
    session: CheckSession
    project_code: str
    enterprise_name: str
    supplier_name: str


@dataclass(frozen=True)
class SessionDetail:
    session: CheckSession
    parties: Parties
    panel: list[tuple[PanelSeat, Expert]]
    guests: list[Guest]
    resources: list[str]


def _local_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tzinfo=SHANGHAI)


def _filtered(
    stmt: Select[CheckSession, str, str, str], f: SessionFilter
) -> Select[CheckSession, str, str, str]:
    if f.city_code:
        stmt = stmt.where(CheckSession.city_code == f.city_code)
    if f.status:
        stmt = stmt.where(CheckSession.status == f.status)
    if f.project_id:
        stmt = stmt.where(CheckSession.project_id == f.project_id)
    if f.supplier_id:
        stmt = stmt.where(VoucherProject.supplier_id == f.supplier_id)
    if f.expert_id:
        on_panel = select(PanelSeat.session_id).where(PanelSeat.expert_id == f.expert_id)
        stmt = stmt.where(CheckSession.id.in_(on_panel))
    if f.date_from:
        stmt = stmt.where(CheckSession.starts_at >= _local_midnight(f.date_from))
    if f.date_to:
        stmt = stmt.where(CheckSession.starts_at < _local_midnight(f.date_to + dt.timedelta(days=1)))
    return stmt


async def list_sessions(
    session: AsyncSession,
    principal: Principal,
    f: SessionFilter,
    *,
    page: int = 1,
    page_size: int = PAGE_SIZE,
) -> tuple[list[SessionRow], int]:
    """Sessions of the projects ``principal`` may see, soonest first, and how many match."""
    stmt = (
        select(CheckSession, VoucherProject.code, Enterprise.name, Supplier.name)
        .join(VoucherProject, VoucherProject.id == CheckSession.project_id)
        .join(Enterprise, Enterprise.id == VoucherProject.enterprise_id)
        .join(Supplier, Supplier.id == VoucherProject.supplier_id)
    )
    stmt = _filtered(scope_sessions(stmt, principal), f)
    total = await session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = (
        await session.execute(
            stmt.order_by(CheckSession.starts_at, CheckSession.id)
            .offset((page - 1) * page_size)
            .limit(page_size)
        )
    ).all()
    return [SessionRow(s, code, ent, sup) for s, code, ent, sup in rows], total


async def session_detail(session: AsyncSession, principal: Principal, session_id: int) -> SessionDetail:
    """One session with its parties, panel (lead first), guests and held resources.

    The panel of a session that did not take place (cancelled, no-show) no longer sees its guests.
    """
    check, parties = await load_session(session, principal, session_id)
    panel = [
        (seat, expert)
        for seat, expert in (
            await session.execute(
                select(PanelSeat, Expert)
                .join(Expert, Expert.id == PanelSeat.expert_id)
                .where(PanelSeat.session_id == check.id)
                .order_by(PanelSeat.role != PanelRole.LEAD, PanelSeat.id)
            )
        ).all()
    ]
    guests = list(
        (await session.scalars(select(Guest).where(Guest.session_id == check.id).order_by(Guest.id))).all()
    )
    if principal.role == Role.EXPERT and check.status in VOID:
        guests = []
    resources = list(
        (
            await session.scalars(
                select(Booking.resource).where(Booking.session_id == check.id).order_by(Booking.resource)
            )
        ).all()
    )
    return SessionDetail(check, parties, panel, guests, resources)


async def experts_with_conflicts(
    session: AsyncSession,
    principal: Principal,
    *,
    project_id: int | None = None,
    city_code: str | None = None,
    active: bool | None = True,
) -> list[tuple[Expert, list[str]]]:
    """Experts (shared by all cities) with the parties of ``project_id`` each one is tied to."""
    stmt = select(Expert).order_by(Expert.name, Expert.id)
    if city_code:
        stmt = stmt.where(Expert.home_city_code == city_code)
    if active is not None:
        stmt = stmt.where(Expert.active.is_(active))
    experts = (await session.scalars(stmt)).all()
    if project_id is None:
        return [(e, []) for e in experts]
    parties = await load_parties(session, principal, project_id)
    codes = {parties.supplier.credit_code: "supplier", parties.enterprise.credit_code: "enterprise"}
    return [(e, conflict_reasons(e.employer_credit_code, e.ties or [], codes)) for e in experts]


async def bookable_projects(session: AsyncSession, principal: Principal, limit: int = 500) -> list[Any]:
    """``(id, code, enterprise name, supplier name)`` of the sampled projects ``principal`` sees
    (those a session can be booked for), by code; at most ``limit``."""
    stmt = scoped(
        select(VoucherProject.id, VoucherProject.code, Enterprise.name, Supplier.name)
        .join(Enterprise, Enterprise.id == VoucherProject.enterprise_id)
        .join(Supplier, Supplier.id == VoucherProject.supplier_id)
        .where(VoucherProject.status == ProjectStatus.SAMPLED)
        .order_by(VoucherProject.code)
        .limit(limit),
        principal,
    )
    return list((await session.execute(stmt)).all())
