"""Checklist items: made when a project is sampled, filled in by the experts of its panel.

Marking an item (who may: a seat on the panel) is :mod:`scheduler.checklist`.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from remote_check.campaigns.sampling import Thresholds
from remote_check.checklist.build import ModuleFacts, ProjectFacts, build_items
from remote_check.checklist.models import ChecklistItem, ItemResult
from remote_check.errors import NotFound
from remote_check.programme.models import (
    Enterprise,
    Product,
    ProductModule,
    ProjectStatus,
    Supplier,
    VoucherProject,
)

# Results are recorded while the project is being checked; a verdict freezes them.
EDITABLE = frozenset({ProjectStatus.SAMPLED, ProjectStatus.SCHEDULED, ProjectStatus.CHECKED})


async def project_facts(
    session: AsyncSession, project: VoucherProject, thresholds: Thresholds
) -> tuple[ProjectFacts, list[ModuleFacts]]:
    """What :func:`build_items` needs, read from the project, its enterprise, supplier and product."""
    enterprise = await session.get(Enterprise, project.enterprise_id)
    supplier = await session.get(Supplier, project.supplier_id)
    product = await session.get(Product, project.product_id)
    if enterprise is None or supplier is None or product is None:
        raise NotFound("项目的企业、服务商或产品", "The project's enterprise, supplier or product")
    modules = (
        await session.scalars(
            select(ProductModule)
            .where(ProductModule.product_id == product.id)
            .order_by(ProductModule.position, ProductModule.id)
        )
    ).all()
    facts = ProjectFacts(
        code=project.code,
        enterprise_name=enterprise.name,
        supplier_name=supplier.name,
        product_name=product.name,
        contract_amount=project.contract_amount,
        listed_price=product.listed_price,
        price_unit=product.price_unit,
        price_period=product.price_period,
        amount_paid=project.amount_paid,
        has_usage_logs=project.has_usage_logs,
        price_over_listed=thresholds.price_over_listed,
        min_paid_ratio=thresholds.min_paid_ratio,
    )
    return facts, [ModuleFacts(m.name, m.description) for m in modules]


async def list_items(session: AsyncSession, project_id: int) -> list[ChecklistItem]:
    """The project's items in checklist order."""
    rows = await session.scalars(
        select(ChecklistItem).where(ChecklistItem.project_id == project_id).order_by(ChecklistItem.position)
    )
    return list(rows.all())


async def create_items(
    session: AsyncSession, project: VoucherProject, thresholds: Thresholds
) -> list[ChecklistItem]:
    """Make the project's checklist; a project that already has one keeps it (and its results).

    The caller records the change in the audit log (``draw.publish`` names the projects).
    """
    existing = await list_items(session, project.id)
    if existing:
        return existing
    facts, modules = await project_facts(session, project, thresholds)
    items = [
        ChecklistItem(
            project_id=project.id,
            code=spec.code,
            standard=spec.standard,
            position=spec.position,
            title_zh=spec.title_zh,
            title_en=spec.title_en,
            guidance_zh=spec.guidance_zh,
            guidance_en=spec.guidance_en,
            evidence_zh=spec.evidence_zh,
            evidence_en=spec.evidence_en,
            result=ItemResult.PENDING,
            notes="",
        )
        for spec in build_items(facts, modules)
    ]
    session.add_all(items)
    await session.flush()
    return items
