"""Small factories for test data: suppliers with a product and its modules, enterprises, projects.

Every function inserts rows with an open session and flushes; the caller commits. Credit codes
are valid (GB 32100) and differ from one call to the next.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from remote_check.accounts.models import User
from remote_check.campaigns.models import Draw
from remote_check.experts.models import Expert
from remote_check.programme.credit_code import generate
from remote_check.programme.models import (
    BusinessArea,
    Enterprise,
    Product,
    ProductModule,
    ProjectStatus,
    Supplier,
    SupplierKind,
    VoucherProject,
)
from scheduler.models import CheckSession, PanelRole, PanelSeat, SessionStatus

_serial = itertools.count(1)
AT = dt.datetime(2020, 3, 1, 2, 0, tzinfo=dt.UTC)
MODULES = ("设备数据采集", "生产排程", "质量追溯")


def credit_code(division: str = "441900") -> str:
    """A fresh valid unified social credit code."""
    return generate(random.Random(next(_serial)), division=division)


@dataclass
class SupplierBundle:
    supplier: Supplier
    product: Product
    modules: list[ProductModule]


async def add_supplier(
    session: AsyncSession,
    name: str | None = None,
    *,
    listed_price: Decimal = Decimal("100000.00"),
    modules: tuple[str, ...] = MODULES,
    product_name: str = "云MES",
) -> SupplierBundle:
    """A supplier with one product (at ``listed_price`` per 套 per 年) and its declared modules."""
    n = next(_serial)
    supplier = Supplier(
        name=name or f"测试服务商{n}有限公司",
        credit_code=credit_code("440100"),
        kind=SupplierKind.SERVICE_PROVIDER,
        teams=1,
        listed=True,
    )
    session.add(supplier)
    await session.flush()
    product = Product(
        supplier_id=supplier.id,
        name=product_name,
        business_area=BusinessArea.PRODUCTION_CONTROL,
        listed_price=listed_price,
        price_unit="套",
        price_period="年",
        deployment="公有云",
    )
    session.add(product)
    await session.flush()
    rows = [
        ProductModule(product_id=product.id, position=i, name=m, description=f"{m}功能")
        for i, m in enumerate(modules, start=1)
    ]
    session.add_all(rows)
    await session.flush()
    return SupplierBundle(supplier, product, rows)


async def add_enterprise(
    session: AsyncSession, city_code: str = "4419", name: str | None = None
) -> Enterprise:
    n = next(_serial)
    enterprise = Enterprise(
        name=name or f"测试制造企业{n}有限公司",
        credit_code=credit_code(f"{city_code}00"),
        city_code=city_code,
    )
    session.add(enterprise)
    await session.flush()
    return enterprise


async def add_project(
    session: AsyncSession,
    bundle: SupplierBundle,
    *,
    city_code: str = "4419",
    contract: Decimal = Decimal("100000.00"),
    paid: Decimal | None = None,
    has_usage_logs: bool = True,
    under_recheck: bool = False,
    status: ProjectStatus = ProjectStatus.REGISTERED,
    enterprise: Enterprise | None = None,
) -> VoucherProject:
    """A voucher project of ``bundle``'s product in ``city_code``; by default fully paid, with logs."""
    enterprise = enterprise or await add_enterprise(session, city_code)
    n = next(_serial)
    project = VoucherProject(
        code=f"YSQ-2019-{city_code}-{n:05d}",
        city_code=city_code,
        enterprise_id=enterprise.id,
        supplier_id=bundle.supplier.id,
        product_id=bundle.product.id,
        contract_date=dt.date(2019, 6, 1),
        contract_amount=contract,
        voucher_amount=(contract * Decimal("0.3")).quantize(Decimal("0.01")),
        amount_paid=contract if paid is None else paid,
        redemption_requested_at=AT,
        has_usage_logs=has_usage_logs,
        under_recheck=under_recheck,
        status=status,
        imported_at=AT,
    )
    session.add(project)
    await session.flush()
    return project


async def add_expert(session: AsyncSession, user: User | None = None, name: str = "测试专家") -> Expert:
    expert = Expert(name=name, employer="测试大学", ties=[], user_id=user.id if user else None, active=True)
    session.add(expert)
    await session.flush()
    return expert


async def seat_on_panel(
    session: AsyncSession, project: VoucherProject, expert: Expert, *, at: dt.datetime = AT
) -> CheckSession:
    """A booked check session of ``project`` with ``expert`` on its panel."""
    check = CheckSession(
        project_id=project.id,
        city_code=project.city_code,
        starts_at=at,
        ends_at=at + dt.timedelta(minutes=45),
        status=SessionStatus.BOOKED,
        created_at=at,
    )
    session.add(check)
    await session.flush()
    session.add(PanelSeat(session_id=check.id, expert_id=expert.id, role=PanelRole.LEAD))
    await session.flush()
    return check


async def publish_sample(session: AsyncSession, city_code: str, seed: str, *, now: dt.datetime) -> Draw:
    """A 2019 campaign in ``city_code`` with one project drawn by ``seed``, published (checklists made)."""
    from remote_check.audit.service import Actor
    from remote_check.campaigns import service
    from remote_check.campaigns.sampling import Target, Thresholds

    campaign = await service.create_campaign(
        session,
        service.NewCampaign(city_code, "2019", Decimal("1.00"), dt.date(2020, 6, 30)),
        actor=Actor.cli(),
        now=now,
        created_by=None,
    )
    draw = await service.create_draw(
        session,
        campaign,
        target=Target(count=1),
        seed=seed,
        thresholds=Thresholds(),
        actor=Actor.cli(),
        now=now,
        created_by=None,
    )
    return await service.publish_draw(session, draw.id, actor=Actor.cli(), now=now)
