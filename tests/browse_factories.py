"""Browsing scenarios on top of :mod:`tests.factories`: named projects in two cities, checklists.

Each helper inserts rows in the caller's session and flushes; the caller commits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from remote_check.accounts.models import User
from remote_check.checklist.models import ChecklistItem, ItemResult, Standard
from remote_check.experts.models import Expert
from remote_check.programme.models import Enterprise, ProjectStatus, SupplierKind, VoucherProject
from tests import factories
from tests.factories import SupplierBundle, add_enterprise, seat_on_panel

__all__ = [
    "World",
    "add_checklist_item",
    "add_enterprise",
    "expert_for",
    "project",
    "seat_on_panel",
    "small_world",
]


async def project(
    session: AsyncSession,
    code: str,
    bundle: SupplierBundle,
    enterprise: Enterprise,
    *,
    contract: Decimal = Decimal("100000.00"),
    paid: Decimal | None = None,
    status: ProjectStatus = ProjectStatus.REGISTERED,
    key: bool = False,
    cluster: bool = False,
) -> VoucherProject:
    """A project of ``bundle``'s product for ``enterprise`` (in its city), with a code of our choosing."""
    row = await factories.add_project(
        session,
        bundle,
        city_code=enterprise.city_code,
        contract=contract,
        paid=paid,
        status=status,
        enterprise=enterprise,
    )
    row.code = code
    row.is_key_project = key
    row.is_cluster = cluster
    await session.flush()
    return row


async def expert_for(session: AsyncSession, user_id: int, name: str) -> Expert:
    """The expert record of the signed-up user ``user_id``."""
    user = await session.get(User, user_id)
    assert user is not None
    return await factories.add_expert(session, user, name)


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
    """One checklist row, inserted directly (the checklist builder is not under test here)."""
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
    suppliers: dict[str, SupplierBundle] = field(default_factory=dict)


async def small_world(session: AsyncSession) -> World:
    """DG-001..DG-003 in Dongguan, FS-001..FS-002 in Foshan, from two suppliers.

    DG-001: 云智 MES, key project, 160,000 for a 100,000 listing (1.6x), 80% paid.
    DG-002: 云智 MES, cluster project, sampled.  DG-003: 粤联 ERP, qualified.
    FS-001: 云智 MES, sampled.  FS-002: 粤联 ERP, cluster project.
    """
    world = World()
    mes = await factories.add_supplier(
        session,
        "云智工业互联网有限公司",
        product_name="云智 MES",
        modules=("设备联网", "生产看板", "质量追溯"),
    )
    mes.supplier.kind = SupplierKind.PLATFORM
    erp = await factories.add_supplier(
        session, "粤联软件服务有限公司", product_name="粤联 ERP", listed_price=Decimal("50000.00")
    )
    world.suppliers = {"yunzhi": mes, "yuelian": erp}
    dg_a = await add_enterprise(session, "4419", "东莞精密模具有限公司")
    dg_b = await add_enterprise(session, "4419", "东莞长安五金厂")
    fs_a = await add_enterprise(session, "4406", "佛山顺德家电有限公司")
    world.dongguan = [
        await project(
            session, "DG-001", mes, dg_a, contract=Decimal("160000.00"), paid=Decimal("128000.00"), key=True
        ),
        await project(session, "DG-002", mes, dg_b, status=ProjectStatus.SAMPLED, cluster=True),
        await project(
            session, "DG-003", erp, dg_b, contract=Decimal("45000.50"), status=ProjectStatus.QUALIFIED
        ),
    ]
    world.foshan = [
        await project(session, "FS-001", mes, fs_a, status=ProjectStatus.SAMPLED),
        await project(session, "FS-002", erp, fs_a, cluster=True),
    ]
    return world
