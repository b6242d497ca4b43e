"""Checklist items: made when a project is sampled, filled in by the experts of its panel."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from remote_check.accounts.access import Principal
from remote_check.accounts.models import Role
from remote_check.audit.service import Actor, record
from remote_check.campaigns.sampling import Thresholds
from remote_check.checklist.build import ModuleFacts, ProjectFacts, build_items
from remote_check.checklist.models import ChecklistItem, ItemResult
from remote_check.errors import Conflict, Forbidden, Message, NotFound, invalid
from remote_check.programme.models import (
    Enterprise,
    Product,
    ProductModule,
    ProjectStatus,
    Supplier,
    VoucherProject,
)
from scheduler.models import VOID, CheckSession, PanelSeat

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


async def sits_on_panel(session: AsyncSession, expert_id: int | None, project_id: int) -> bool:
    """Whether the expert sits on the panel of a session of the project that takes or took place
    (not cancelled, not a no-show: see :mod:`remote_check.programme.scoping`)."""
    if expert_id is None:
        return False
    found = await session.scalar(
        select(PanelSeat.id)
        .join(CheckSession, CheckSession.id == PanelSeat.session_id)
        .where(
            CheckSession.project_id == project_id,
            CheckSession.status.not_in(VOID),
            PanelSeat.expert_id == expert_id,
        )
        .limit(1)
    )
    return found is not None


async def may_mark(session: AsyncSession, principal: Principal, project_id: int) -> bool:
    """Who marks a project's checklist: an expert of its panel, or a province admin."""
    if principal.role == Role.PROVINCE_ADMIN:
        return True
    return principal.role == Role.EXPERT and await sits_on_panel(session, principal.expert_id, project_id)


async def update_item(
    session: AsyncSession,
    project_id: int,
    code: str,
    *,
    result: ItemResult | None,
    notes: str | None,
    principal: Principal,
    now: dt.datetime,
) -> ChecklistItem:
    """Record an item's result and notes: an expert of the project's panel, or a province admin.

    A ``fail`` or ``not applicable`` needs a note saying why; nothing changes after the verdict.
    """
    project = await session.get(VoucherProject, project_id)
    if project is None:
        raise NotFound("项目", "Project")
    if not await may_mark(session, principal, project_id):
        raise Forbidden(
            Message("只有该项目核查组的专家可以填写核查表", "Only the experts of this project's panel may")
        )
    if result is None and notes is None:
        raise invalid("请给出结果或说明", "Give a result or notes", field="result")
    if project.status not in EDITABLE:
        raise Conflict(
            Message(
                "项目已有核查结论，核查表不能再修改",
                "The project already has a verdict; its checklist can no longer change",
            )
        )
    item = await session.scalar(
        select(ChecklistItem)
        .where(ChecklistItem.project_id == project_id, ChecklistItem.code == code)
        .with_for_update()
    )
    if item is None:
        raise NotFound(f"核查项 {code}", f"Checklist item {code}")
    new_result = item.result if result is None else result
    new_notes = item.notes if notes is None else notes.strip()
    if new_result in (ItemResult.FAIL, ItemResult.NOT_APPLICABLE) and not new_notes:
        raise invalid(
            "结果为“不通过”或“不适用”时须填写说明",
            "A fail or not-applicable result needs notes saying why",
            field="notes",
        )
    before = {"result": item.result.value, "notes": item.notes}
    item.result = new_result
    item.notes = new_notes
    item.updated_at = now
    item.updated_by = principal.user_id
    await session.flush()
    await record(
        session,
        Actor.of(principal),
        "checklist.update",
        f"project:{project_id}/{code}",
        at=now,
        city_code=project.city_code,
        details={"before": before, "after": {"result": new_result.value, "notes": new_notes}},
    )
    return item
