"""Test data for check sessions, built on :mod:`tests.factories`: suppliers with several teams,
barred or delisted parties, cluster projects, experts with ties, and users who act.

Each helper inserts rows in the caller's session and flushes; the caller commits.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from remote_check.accounts.access import Principal
from remote_check.accounts.models import Role
from remote_check.accounts.service import NewUser, create_user
from remote_check.audit.service import Actor
from remote_check.campaigns.models import Campaign, CampaignStatus, Draw, DrawEntry, DrawMode, DrawStatus
from remote_check.clock import SHANGHAI
from remote_check.database import transaction
from remote_check.experts.models import Expert
from remote_check.programme.models import Enterprise, Product, ProjectStatus, Supplier, VoucherProject
from scheduler.models import Booking, CheckSession, PanelSeat
from tests import factories
from tests.factories import credit_code

AT = dt.datetime(2020, 3, 1, 10, 0, tzinfo=SHANGHAI)
PASSWORD = "correct-horse-battery"


def local(day: int, hour: int, minute: int = 0) -> dt.datetime:
    """An instant in April 2020, Guangdong time."""
    return dt.datetime(2020, 4, day, hour, minute, tzinfo=SHANGHAI)


async def add_supplier(
    session: AsyncSession,
    name: str | None = None,
    *,
    teams: int = 1,
    listed: bool = True,
    barred_until: dt.date | None = None,
) -> Supplier:
    """A supplier (with a product) that runs ``teams`` demonstration teams in parallel."""
    bundle = await factories.add_supplier(session, name)
    bundle.supplier.teams = teams
    bundle.supplier.listed = listed
    bundle.supplier.barred_until = barred_until
    await session.flush()
    return bundle.supplier


async def add_enterprise(
    session: AsyncSession, name: str | None = None, *, city: str = "4401", barred_until: dt.date | None = None
) -> Enterprise:
    """An enterprise in ``city``, barred until ``barred_until`` if given."""
    enterprise = await factories.add_enterprise(session, city, name)
    enterprise.barred_until = barred_until
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
    """A project (sampled by default) of ``supplier``'s product and a new or given enterprise."""
    product = (await session.scalars(select(Product).where(Product.supplier_id == supplier.id))).first()
    assert product is not None, "suppliers made by add_supplier have a product"
    bundle = factories.SupplierBundle(supplier, product, [])
    project = await factories.add_project(
        session, bundle, city_code=city, status=status, enterprise=enterprise
    )
    project.is_cluster = is_cluster
    await session.flush()
    return project


async def add_expert(
    session: AsyncSession,
    name: str = "测试专家",
    *,
    employer_credit_code: str | None = None,
    ties: Sequence[str] = (),
    city: str | None = "4401",
    active: bool = True,
) -> Expert:
    """An expert employed by ``employer_credit_code`` (a fresh organisation by default)."""
    expert = await factories.add_expert(session, name=name)
    expert.employer_credit_code = employer_credit_code or credit_code()
    expert.ties = list(ties)
    expert.home_city_code = city
    expert.active = active
    await session.flush()
    return expert


async def add_experts(session: AsyncSession, count: int) -> list[int]:
    """``count`` experts without ties; their ids."""
    return [(await add_expert(session, f"专家{i + 1}")).id for i in range(count)]


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
    """The stored status of a project."""
    async with transaction(factory) as session:
        project = await session.get(VoucherProject, project_id)
        assert project is not None
        return project.status


async def add_campaign(
    session: AsyncSession,
    projects: Sequence[VoucherProject],
    *,
    deadline: dt.date,
    city: str = "4401",
    period: str = "2019",
) -> Campaign:
    """A campaign of ``city`` whose published draw lists ``projects``."""
    campaign = Campaign(
        city_code=city,
        period=period,
        title=f"{period}年度服务券抽查",
        budget=Decimal("1000000.00"),
        deadline=deadline,
        status=CampaignStatus.CHECKING,
        created_at=AT,
    )
    session.add(campaign)
    await session.flush()
    draw = Draw(
        campaign_id=campaign.id,
        seed="seed",
        mode=DrawMode.COUNT,
        count=len(projects),
        thresholds={},
        inputs={},
        population=len(projects),
        status=DrawStatus.PUBLISHED,
        created_at=AT,
        published_at=AT,
    )
    session.add(draw)
    await session.flush()
    session.add_all(
        DrawEntry(draw_id=draw.id, project_id=p.id, position=i, reasons=[], facts={})
        for i, p in enumerate(projects)
    )
    await session.flush()
    return campaign
