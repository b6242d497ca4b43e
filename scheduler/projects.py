"""Browsing voucher projects within the caller's scope.

Every query here goes through :func:`scheduler.access.scope_projects`, so a
project the caller may not see never leaves the database (here, not in :mod:`remote_check.programme`,
because an expert sees a project through their seats on its sessions). A project outside the caller's
scope is answered exactly like a project that does not exist (404 ``NotFound``): a 403
would confirm to a coordinator of one city that a project id exists in another.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any, TypeVarTuple

from sqlalchemy import Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from remote_check.accounts.access import Principal, ScopeKind, project_scope
from remote_check.checklist.models import ChecklistItem
from remote_check.errors import Forbidden, Message
from remote_check.programme.models import (
    City,
    Enterprise,
    Product,
    ProductModule,
    Supplier,
    VoucherProject,
)
from remote_check.programme.pricing import above, below, ratio
from remote_check.programme.schemas import (
    CityList,
    CityOut,
    ModuleOut,
    ProjectDetail,
    ProjectOut,
    ProjectPage,
    ProjectQuery,
)
from scheduler.access import project_in_scope, scoped

_Ts = TypeVarTuple("_Ts")


def _joined(stmt: Select[*_Ts]) -> Select[*_Ts]:
    return (
        stmt.join(Enterprise, Enterprise.id == VoucherProject.enterprise_id)
        .join(Supplier, Supplier.id == VoucherProject.supplier_id)
        .join(Product, Product.id == VoucherProject.product_id)
        .join(City, City.code == VoucherProject.city_code)
    )


def _filters(query: ProjectQuery) -> list[Any]:
    conditions: list[Any] = []
    if query.city is not None:
        conditions.append(VoucherProject.city_code == query.city)
    if query.status is not None:
        conditions.append(VoucherProject.status == query.status)
    if query.supplier_id is not None:
        conditions.append(VoucherProject.supplier_id == query.supplier_id)
    if query.key_only:
        conditions.append(VoucherProject.is_key_project.is_(True))
    if query.cluster_only:
        conditions.append(VoucherProject.is_cluster.is_(True))
    text = (query.q or "").strip()
    if text:
        conditions.append(
            or_(
                VoucherProject.code.icontains(text, autoescape=True),
                Enterprise.name.icontains(text, autoescape=True),
                Supplier.name.icontains(text, autoescape=True),
            )
        )
    return conditions


def _check_city_filter(principal: Principal, city: str | None) -> None:
    scope = project_scope(principal)
    if city is not None and scope.kind == ScopeKind.CITY and city != scope.city_code:
        raise Forbidden(Message("无权查看其他城市的数据", "You may not see another city's data"))


def _row(
    project: VoucherProject, enterprise: Enterprise, supplier: Supplier, product: Product, city: City
) -> ProjectOut:
    return ProjectOut(
        id=project.id,
        code=project.code,
        city_code=project.city_code,
        city_name_zh=city.name_zh,
        city_name_en=city.name_en,
        enterprise_id=enterprise.id,
        enterprise_name=enterprise.name,
        supplier_id=supplier.id,
        supplier_name=supplier.name,
        product_id=product.id,
        product_name=product.name,
        contract_date=project.contract_date,
        contract_amount=project.contract_amount,
        voucher_amount=project.voucher_amount,
        amount_paid=project.amount_paid,
        redemption_requested_at=project.redemption_requested_at,
        status=project.status,
        is_key_project=project.is_key_project,
        is_cluster=project.is_cluster,
        has_usage_logs=project.has_usage_logs,
        under_recheck=project.under_recheck,
    )


async def list_projects(session: AsyncSession, principal: Principal, query: ProjectQuery) -> ProjectPage:
    """One page of the projects ``principal`` may see that match ``query``, ordered by code.

    Filtering by a city outside a city-scoped user's own city is refused (403) rather than
    answered with an empty page, so the user knows why nothing is shown.
    """
    _check_city_filter(principal, query.city)
    conditions = _filters(query)
    count_stmt = scoped(
        _joined(select(func.count()).select_from(VoucherProject)).where(*conditions), principal
    )
    total = int(await session.scalar(count_stmt) or 0)
    rows_stmt = scoped(
        _joined(select(VoucherProject, Enterprise, Supplier, Product, City)).where(*conditions), principal
    )
    rows_stmt = (
        rows_stmt.order_by(VoucherProject.code, VoucherProject.id)
        .limit(query.page_size)
        .offset((query.page - 1) * query.page_size)
    )
    rows = (await session.execute(rows_stmt)).all()
    return ProjectPage(
        items=[_row(*row) for row in rows],
        total=total,
        page=query.page,
        page_size=query.page_size,
        pages=math.ceil(total / query.page_size) if total else 0,
    )


async def _visible(
    session: AsyncSession, principal: Principal, project_id: int
) -> tuple[VoucherProject, Enterprise, Supplier, Product, City]:
    # Outside the caller's scope looks exactly like absent (404): existence is not leaked.
    project = await project_in_scope(session, principal, project_id)
    enterprise = await session.get(Enterprise, project.enterprise_id)
    supplier = await session.get(Supplier, project.supplier_id)
    product = await session.get(Product, project.product_id)
    city = await session.get(City, project.city_code)
    assert enterprise is not None
    assert supplier is not None
    assert product is not None
    assert city is not None
    return project, enterprise, supplier, product, city


async def get_project(
    session: AsyncSession,
    principal: Principal,
    project_id: int,
    *,
    price_limit: Decimal,
    min_paid: Decimal,
) -> ProjectDetail:
    """One project with its product listing, or ``NotFound`` if absent or outside the scope.

    ``price_limit`` (e.g. 1.5) and ``min_paid`` (e.g. 0.90) are the configured thresholds
    of the financial check. Ratios and flags follow :mod:`remote_check.programme.pricing`: the
    ratios are shown rounded, the flags compare the amounts exactly.
    """
    project, enterprise, supplier, product, city = await _visible(session, principal, project_id)
    modules = (
        await session.scalars(
            select(ProductModule)
            .where(ProductModule.product_id == product.id)
            .order_by(ProductModule.position)
        )
    ).all()
    return ProjectDetail(
        **_row(project, enterprise, supplier, product, city).model_dump(),
        enterprise_credit_code=enterprise.credit_code,
        supplier_credit_code=supplier.credit_code,
        supplier_kind=supplier.kind,
        business_area=product.business_area,
        listed_price=product.listed_price,
        price_unit=product.price_unit,
        price_period=product.price_period,
        deployment=product.deployment,
        modules=[ModuleOut(position=m.position, name=m.name, description=m.description) for m in modules],
        price_ratio=ratio(project.contract_amount, product.listed_price),
        paid_ratio=ratio(project.amount_paid, project.contract_amount),
        over_listed_price=above(project.contract_amount, product.listed_price, price_limit),
        paid_below_minimum=below(project.amount_paid, project.contract_amount, min_paid),
    )


async def project_checklist(
    session: AsyncSession, principal: Principal, project_id: int
) -> list[ChecklistItem]:
    """The checklist items of a visible project, ordered by position (``NotFound`` otherwise)."""
    await _visible(session, principal, project_id)
    items = await session.scalars(
        select(ChecklistItem)
        .where(ChecklistItem.project_id == project_id)
        .order_by(ChecklistItem.position, ChecklistItem.id)
    )
    return list(items.all())


async def list_cities(session: AsyncSession, principal: Principal) -> CityList:
    """All 21 cities, each with the number of its projects that ``principal`` may see."""
    counts_stmt = scoped(
        select(VoucherProject.city_code, func.count()).group_by(VoucherProject.city_code), principal
    )
    counts = {code: int(n) for code, n in (await session.execute(counts_stmt)).all()}
    cities = (await session.scalars(select(City).order_by(City.code))).all()
    return CityList(
        items=[
            CityOut(
                code=c.code,
                name_zh=c.name_zh,
                name_en=c.name_en,
                in_round=c.in_round,
                project_count=counts.get(c.code, 0),
            )
            for c in cities
        ]
    )


async def visible_suppliers(session: AsyncSession, principal: Principal) -> list[tuple[int, str]]:
    """``(id, name)`` of the suppliers of the projects ``principal`` may see, by name."""
    stmt = scoped(
        select(Supplier.id, Supplier.name)
        .join(VoucherProject, VoucherProject.supplier_id == Supplier.id)
        .distinct(),
        principal,
    ).order_by(Supplier.name, Supplier.id)
    return [(int(i), str(n)) for i, n in (await session.execute(stmt)).all()]
