"""Checklist items: made when a project is sampled, filled in by the experts of its panel.

Marking an item (who may: a seat on the panel) is :mod:`scheduler.checklist`.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import insert, select
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
    return _facts(project, enterprise, supplier, product, thresholds), [
        ModuleFacts(m.name, m.description) for m in modules
    ]


def _facts(
    project: VoucherProject,
    enterprise: Enterprise,
    supplier: Supplier,
    product: Product,
    thresholds: Thresholds,
) -> ProjectFacts:
    return ProjectFacts(
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
    items = _new_items(project.id, facts, modules)
    session.add_all(items)
    await session.flush()
    return items


def _new_items(project_id: int, facts: ProjectFacts, modules: list[ModuleFacts]) -> list[ChecklistItem]:
    return [
        ChecklistItem(
            project_id=project_id,
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


async def create_items_many(
    session: AsyncSession, projects: Sequence[tuple[VoucherProject, Thresholds]]
) -> dict[int, int]:
    """:func:`create_items` for many projects in a few queries (a cascade's re-checks); how many items
    each project got (0: it had a checklist already, which it keeps)."""
    ids = [p.id for p, _ in projects]
    having = set(
        (
            await session.scalars(select(ChecklistItem.project_id).where(ChecklistItem.project_id.in_(ids)))
        ).all()
    )
    todo = [(p, t) for p, t in projects if p.id not in having]
    enterprises = {
        e.id: e
        for e in (
            await session.scalars(
                select(Enterprise).where(Enterprise.id.in_({p.enterprise_id for p, _ in todo}))
            )
        ).all()
    }
    suppliers = {
        s.id: s
        for s in (
            await session.scalars(select(Supplier).where(Supplier.id.in_({p.supplier_id for p, _ in todo})))
        ).all()
    }
    products = {
        p.id: p
        for p in (
            await session.scalars(select(Product).where(Product.id.in_({p.product_id for p, _ in todo})))
        ).all()
    }
    modules: dict[int, list[ModuleFacts]] = {}
    for m in (
        await session.scalars(
            select(ProductModule)
            .where(ProductModule.product_id.in_(list(products)))
            .order_by(ProductModule.product_id, ProductModule.position, ProductModule.id)
        )
    ).all():
        modules.setdefault(m.product_id, []).append(ModuleFacts(m.name, m.description))
    made: dict[int, int] = dict.fromkeys(ids, 0)
    rows: list[dict[str, object]] = []
    for project, thresholds in todo:
        enterprise = enterprises.get(project.enterprise_id)
        supplier = suppliers.get(project.supplier_id)
        product = products.get(project.product_id)
        if enterprise is None or supplier is None or product is None:
            raise NotFound("项目的企业、服务商或产品", "The project's enterprise, supplier or product")
        facts = _facts(project, enterprise, supplier, product, thresholds)
        specs = build_items(facts, modules.get(product.id, []))
        made[project.id] = len(specs)
        rows += [
            {
                "project_id": project.id,
                "code": spec.code,
                "standard": spec.standard,
                "position": spec.position,
                "title_zh": spec.title_zh,
                "title_en": spec.title_en,
                "guidance_zh": spec.guidance_zh,
                "guidance_en": spec.guidance_en,
                "evidence_zh": spec.evidence_zh,
                "evidence_en": spec.evidence_en,
                "result": ItemResult.PENDING,
                "notes": "",
            }
            for spec in specs
        ]
    await session.flush()
    if rows:  # one executemany (no row objects are needed back)
        await session.execute(insert(ChecklistItem), rows)
    return made
