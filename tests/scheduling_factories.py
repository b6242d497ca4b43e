"""Test data for check sessions: suppliers (with teams), enterprises, projects, experts, users.

Each helper inserts rows in the caller's session and flushes; the caller commits.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from remote_check.accounts.access import Principal
from remote_check.accounts.models import Role
from remote_check.accounts.service import NewUser, create_user
from remote_check.audit.service import Actor
from remote_check.clock import SHANGHAI
from remote_check.database import transaction
from remote_check.experts.models import Expert
from remote_check.programme.models import (
    BusinessArea,
    Enterprise,
    Product,
    ProjectStatus,
    Supplier,
    SupplierKind,
    VoucherProject,
)
from scheduler.models import Booking, CheckSession, PanelSeat

AT = dt.datetime(2020, 3, 1, 10, 0, tzinfo=SHANGHAI)
PASSWORD = "correct-horse-battery"
_serial = itertools.count(1)


def credit_code() -> str:
    """A unique 18-character credit code (format only)."""
    return f"91440000SC{next(_serial):08d}"


def local(day: int, hour: int, minute: int = 0) -> dt.datetime:
    """An instant in April 2020, Guangdong time."""
    return dt.datetime(2020, 4, day, hour, minute, tzinfo=SHANGHAI)


async def add_supplier(
    session: AsyncSession,
    name: str = "",
    *,
    teams: int = 1,
    listed: bool = True,
    barred_until: dt.date | None = None,
) -> Supplier:
    n = next(_serial)
    supplier = Supplier(
        name=name or f"云服务商{n}",
        credit_code=credit_code(),
        kind=SupplierKind.SERVICE_PROVIDER,
        teams=teams,
        listed=listed,
        barred_until=barred_until,
    )
    session.add(supplier)
    await session.flush()
    return supplier


async def add_enterprise(
    session: AsyncSession, name: str = "", *, city: str = "4401", barred_until: dt.date | None = None
) -> Enterprise:
    n = next(_serial)
    enterprise = Enterprise(
        name=name or f"制造企业{n}", credit_code=credit_code(), city_code=city, barred_until=barred_until
    )
    session.add(enterprise)
    await session.flush()
    return enterprise


async def add_project(
    session: AsyncSession,
    supplier: Supplier,
    *,
    enterprise: Enterprise | None = None,
    city: str = "4401",
    status: ProjectStatus = ProjectStatus.SAMPLED,
    is_cluster: bool = False,
) -> VoucherProject:
    """A project of ``supplier`` (a product is made for it) and a new or given enterprise."""
    n = next(_serial)
    if enterprise is None:
        enterprise = await add_enterprise(session, city=city)
    product = Product(
        supplier_id=supplier.id,
        name=f"上云产品{n}",
        business_area=BusinessArea.PRODUCTION_CONTROL,
        listed_price=Decimal("100000.00"),
    )
    session.add(product)
    await session.flush()
    project = VoucherProject(
        code=f"GD2019-{city}-{n:05d}",
        city_code=city,
        enterprise_id=enterprise.id,
        supplier_id=supplier.id,
        product_id=product.id,
        contract_date=dt.date(2019, 9, 1),
        contract_amount=Decimal("100000.00"),
        voucher_amount=Decimal("30000.00"),
        amount_paid=Decimal("100000.00"),
        redemption_requested_at=AT,
        is_cluster=is_cluster,
        status=status,
        imported_at=AT,
    )
    session.add(project)
    await session.flush()
    return project


async def add_expert(
    session: AsyncSession,
    name: str = "",
    *,
    employer_credit_code: str | None = None,
    ties: Sequence[str] = (),
    city: str | None = "4401",
    active: bool = True,
) -> Expert:
    n = next(_serial)
    expert = Expert(
        name=name or f"专家{n}",
        employer=f"高校{n}",
        employer_credit_code=employer_credit_code or credit_code(),
        ties=list(ties),
        home_city_code=city,
        active=active,
    )
    session.add(expert)
    await session.flush()
    return expert


async def add_experts(session: AsyncSession, count: int) -> list[int]:
    return [(await add_expert(session)).id for _ in range(count)]


async def add_principal(
    session: AsyncSession, username: str, role: Role, city: str | None = None, *, now: dt.datetime = AT
) -> Principal:
    """A user in the database (sessions name their host) and the principal that acts for them."""
    user = await create_user(
        session, NewUser(username, username, role, PASSWORD, city), actor=Actor.cli(), now=now
    )
    return Principal(user.id, role, city, username)


@dataclass(frozen=True)
class Counts:
    sessions: int
    bookings: int
    seats: int


async def counts(factory: async_sessionmaker[AsyncSession]) -> Counts:
    """How many sessions, bookings and panel seats are stored (after commit or rollback)."""
    async with transaction(factory) as session:
        return Counts(
            int(await session.scalar(select(func.count(CheckSession.id))) or 0),
            int(await session.scalar(select(func.count(Booking.id))) or 0),
            int(await session.scalar(select(func.count(PanelSeat.id))) or 0),
        )


async def project_status(factory: async_sessionmaker[AsyncSession], project_id: int) -> ProjectStatus:
    async with transaction(factory) as session:
        project = await session.get(VoucherProject, project_id)
        assert project is not None
        return project.status
