"""Small, explicit test data for browsing: suppliers, products, enterprises, projects.

Each helper inserts rows in the caller's session and flushes; the caller commits.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from remote_check.checklist.models import ChecklistItem, ItemResult, Standard
from remote_check.clock import SHANGHAI
from remote_check.experts.models import Expert
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
from scheduler.models import CheckSession, PanelSeat

AT = dt.datetime(2020, 3, 1, 10, 0, tzinfo=SHANGHAI)
_serial = itertools.count(1)


def credit_code() -> str:
    """A unique 18-character unified social credit code (format only, not checksummed)."""
    return f"91440000MA{next(_serial):08d}"


async def add_supplier(
    session: AsyncSession, name: str, *, kind: SupplierKind = SupplierKind.SERVICE_PROVIDER
) -> Supplier:
    supplier = Supplier(name=name, credit_code=credit_code(), kind=kind, teams=1, listed=True)
    session.add(supplier)
    await session.flush()
    return supplier


async def add_product(
    session: AsyncSession,
    supplier: Supplier,
    name: str,
    *,
    listed_price: Decimal = Decimal("100000.00"),
    modules: Sequence[str] = ("设备联网", "生产看板", "质量追溯"),
) -> Product:
    product = Product(
        supplier_id=supplier.id,
        name=name,
        business_area=BusinessArea.PRODUCTION_CONTROL,
        listed_price=listed_price,
        price_unit="套",
        price_period="年",
        deployment="公有云",
    )
    session.add(product)
    await session.flush()
    for position, module in enumerate(modules, start=1):
        session.add(
            ProductModule(product_id=product.id, position=position, name=module, description=f"{module}功能")
        )
    await session.flush()
    return product


async def add_enterprise(session: AsyncSession, name: str, city_code: str) -> Enterprise:
    enterprise = Enterprise(name=name, credit_code=credit_code(), city_code=city_code)
    session.add(enterprise)
    await session.flush()
    return enterprise


async def add_project(
    session: AsyncSession,
    code: str,
    *,
    enterprise: Enterprise,
    product: Product,
    contract_amount: Decimal = Decimal("100000.00"),
    amount_paid: Decimal | None = None,
    status: ProjectStatus = ProjectStatus.REGISTERED,
    key: bool = False,
    cluster: bool = False,
) -> VoucherProject:
    project = VoucherProject(
        code=code,
        city_code=enterprise.city_code,
        enterprise_id=enterprise.id,
        supplier_id=product.supplier_id,
        product_id=product.id,
        contract_date=dt.date(2019, 9, 1),
        contract_amount=contract_amount,
        voucher_amount=(contract_amount * Decimal("0.3")).quantize(Decimal("0.01")),
        amount_paid=contract_amount if amount_paid is None else amount_paid,
        redemption_requested_at=AT,
        is_key_project=key,
        is_cluster=cluster,
        has_usage_logs=True,
        under_recheck=False,
        status=status,
        imported_at=AT,
    )
    session.add(project)
    await session.flush()
    return project


async def add_expert(session: AsyncSession, name: str, user_id: int | None) -> Expert:
    expert = Expert(name=name, employer="华南理工大学", ties=[], user_id=user_id, active=True)
    session.add(expert)
    await session.flush()
    return expert


async def seat_on_panel(session: AsyncSession, project: VoucherProject, expert: Expert) -> CheckSession:
    """A booked check session of ``project`` with ``expert`` on its panel."""
    starts = dt.datetime(2020, 4, 20, 9, 0, tzinfo=SHANGHAI)
    check = CheckSession(
        project_id=project.id,
        city_code=project.city_code,
        starts_at=starts,
        ends_at=starts + dt.timedelta(minutes=45),
        created_at=AT,
    )
    session.add(check)
    await session.flush()
    session.add(PanelSeat(session_id=check.id, expert_id=expert.id))
    await session.flush()
    return check


async def add_checklist_item(
    session: AsyncSession,
    project: VoucherProject,
    code: str,
    standard: Standard,
    position: int,
    title_zh: str,
    title_en: str,
    result: ItemResult = ItemResult.PENDING,
) -> ChecklistItem:
    item = ChecklistItem(
        project_id=project.id,
        code=code,
        standard=standard,
        position=position,
        title_zh=title_zh,
        title_en=title_en,
        guidance_zh="",
        guidance_en="",
        evidence_zh="",
        evidence_en="",
        result=result,
        notes="",
    )
    session.add(item)
    await session.flush()
    return item


@dataclass
class World:
    """Two cities' worth of projects: Dongguan (4419) and Foshan (4406)."""

    dongguan: list[VoucherProject] = field(default_factory=list)
    foshan: list[VoucherProject] = field(default_factory=list)
    suppliers: dict[str, Supplier] = field(default_factory=dict)
    products: dict[str, Product] = field(default_factory=dict)

    @property
    def all(self) -> list[VoucherProject]:
        return [*self.dongguan, *self.foshan]


async def small_world(session: AsyncSession) -> World:
    """DG-001..DG-003 in Dongguan, FS-001..FS-002 in Foshan, from two suppliers.

    DG-001: 云智 MES, key project, 160,000 for a 100,000 listing (1.6x), 80% paid.
    DG-002: 云智 MES, cluster project, sampled.  DG-003: 粤联 ERP, qualified.
    FS-001: 云智 MES, sampled.  FS-002: 粤联 ERP, cluster project.
    """
    world = World()
    yunzhi = await add_supplier(session, "云智工业互联网有限公司", kind=SupplierKind.PLATFORM)
    yuelian = await add_supplier(session, "粤联软件服务有限公司")
    mes = await add_product(session, yunzhi, "云智 MES")
    erp = await add_product(session, yuelian, "粤联 ERP", listed_price=Decimal("50000.00"))
    world.suppliers = {"yunzhi": yunzhi, "yuelian": yuelian}
    world.products = {"mes": mes, "erp": erp}
    dg_a = await add_enterprise(session, "东莞精密模具有限公司", "4419")
    dg_b = await add_enterprise(session, "东莞长安五金厂", "4419")
    fs_a = await add_enterprise(session, "佛山顺德家电有限公司", "4406")
    world.dongguan = [
        await add_project(
            session,
            "DG-001",
            enterprise=dg_a,
            product=mes,
            contract_amount=Decimal("160000.00"),
            amount_paid=Decimal("128000.00"),
            key=True,
        ),
        await add_project(
            session, "DG-002", enterprise=dg_b, product=mes, status=ProjectStatus.SAMPLED, cluster=True
        ),
        await add_project(
            session,
            "DG-003",
            enterprise=dg_b,
            product=erp,
            contract_amount=Decimal("45000.50"),
            status=ProjectStatus.QUALIFIED,
        ),
    ]
    world.foshan = [
        await add_project(session, "FS-001", enterprise=fs_a, product=mes, status=ProjectStatus.SAMPLED),
        await add_project(session, "FS-002", enterprise=fs_a, product=erp, cluster=True),
    ]
    return world
