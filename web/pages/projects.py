"""Project pages: the filtered list and one project's facts and checklist."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import aiohttp_jinja2
from aiohttp import web
from pydantic import ValidationError

from remote_check.accounts.access import Permission, ScopeKind, project_scope
from remote_check.checklist.models import ChecklistItem, ItemResult, Standard
from remote_check.errors import Message
from remote_check.programme.models import BusinessArea, ProjectStatus, SupplierKind
from remote_check.programme.schemas import ProjectQuery
from remote_check.programme.service import (
    get_project,
    list_cities,
    list_projects,
    project_checklist,
    visible_suppliers,
)
from remote_check.programme.status import LABELS
from web.api.registry import validation_error
from web.context import lang_of
from web.keys import DB, SETTINGS
from web.pages.common import signed_in

routes = web.RouteTableDef()

STANDARD_LABELS: dict[Standard, Message] = {
    Standard.IMPLEMENTATION: Message("实施真实", "Real implementation"),
    Standard.FINANCE: Message("财务规范", "Sound finances"),
    Standard.FUNCTION: Message("功能完整", "Complete functions"),
}

RESULT_LABELS: dict[ItemResult, Message] = {
    ItemResult.PENDING: Message("待核查", "Pending"),
    ItemResult.PASS: Message("通过", "Pass"),
    ItemResult.FAIL: Message("不通过", "Fail"),
    ItemResult.NOT_APPLICABLE: Message("不适用", "Not applicable"),
}

AREA_LABELS: dict[BusinessArea, Message] = {
    BusinessArea.RD_DESIGN: Message("研发设计", "R&D and design"),
    BusinessArea.PRODUCTION_CONTROL: Message("生产管控", "Production control"),
    BusinessArea.BUSINESS_MANAGEMENT: Message("经营管理", "Business management"),
    BusinessArea.AFTER_SALES: Message("售后服务", "After-sales service"),
    BusinessArea.CLOUD_INFRASTRUCTURE: Message("云基础设施", "Cloud infrastructure"),
}

KIND_LABELS: dict[SupplierKind, Message] = {
    SupplierKind.PLATFORM: Message("平台商", "Platform"),
    SupplierKind.SERVICE_PROVIDER: Message("服务商", "Service provider"),
    SupplierKind.CARRIER: Message("基础电信运营商", "Telecom carrier"),
}

FILTER_KEYS = ("city", "status", "supplier_id", "q", "key_only", "cluster_only", "page_size")


def money(value: Decimal | None) -> str:
    """``1234567.5`` -> ``1,234,567.50`` (yuan)."""
    return "" if value is None else f"{value:,.2f}"


def _page_url(filters: dict[str, str], page: int) -> str:
    return "/projects?" + urlencode({**filters, "page": str(page)})


@routes.get("/projects", name="projects")
@aiohttp_jinja2.template("projects.html")
async def projects_page(request: web.Request) -> dict[str, Any]:
    principal = signed_in(request, Permission.PROJECT_READ)
    lang = lang_of(request)
    raw = {k: v for k, v in request.query.items() if k in (*FILTER_KEYS, "page")}
    try:
        query = ProjectQuery.model_validate(raw)
    except ValidationError as exc:
        raise validation_error(exc, lang) from None
    async with request.app[DB]() as session:
        page = await list_projects(session, principal, query)
        cities = await list_cities(session, principal)
        suppliers = await visible_suppliers(session, principal)
    scope = project_scope(principal)
    city_choices = [
        (c.code, c.name_en if lang == "en" else c.name_zh)
        for c in cities.items
        if scope.kind != ScopeKind.CITY or c.code == scope.city_code
    ]
    filters = {k: raw[k] for k in FILTER_KEYS if raw.get(k, "").strip()}
    return {
        "page": page,
        "query": query,
        "filters": filters,
        "cities": city_choices,
        "suppliers": suppliers,
        "statuses": [(s.value, LABELS[s].in_lang(lang)) for s in ProjectStatus],
        "status_label": {s.value: LABELS[s].in_lang(lang) for s in ProjectStatus},
        "money": money,
        "prev_url": _page_url(filters, page.page - 1) if page.page > 1 else "",
        "next_url": _page_url(filters, page.page + 1) if page.page < page.pages else "",
    }


def _grouped(items: list[ChecklistItem]) -> list[tuple[str, list[ChecklistItem]]]:
    groups: list[tuple[str, list[ChecklistItem]]] = []
    for standard in Standard:
        members = [item for item in items if item.standard == standard]
        if members:
            groups.append((standard.value, members))
    return groups


@routes.get(r"/projects/{id:\d+}", name="project")
@aiohttp_jinja2.template("project.html")
async def project_page(request: web.Request) -> dict[str, Any]:
    principal = signed_in(request, Permission.PROJECT_READ)
    lang = lang_of(request)
    project_id = int(request.match_info["id"])
    sampling = request.app[SETTINGS].sampling
    async with request.app[DB]() as session:
        project = await get_project(
            session,
            principal,
            project_id,
            price_limit=sampling.price_over_listed,
            min_paid=sampling.min_paid_ratio,
        )
        checklist = await project_checklist(session, principal, project_id)
    return {
        "p": project,
        "status_label": LABELS[project.status].in_lang(lang),
        "area_label": AREA_LABELS[project.business_area].in_lang(lang),
        "kind_label": KIND_LABELS[project.supplier_kind].in_lang(lang),
        "groups": _grouped(checklist),
        "standard_label": {s.value: STANDARD_LABELS[s].in_lang(lang) for s in Standard},
        "result_label": {r.value: RESULT_LABELS[r].in_lang(lang) for r in ItemResult},
        "money": money,
        "price_limit": sampling.price_over_listed,
        "min_paid_pct": f"{sampling.min_paid_ratio * 100:.0f}",
        "ratio_text": "" if project.price_ratio is None else f"{project.price_ratio:.2f}",
        "paid_pct": "" if project.paid_ratio is None else f"{project.paid_ratio * 100:.1f}",
    }
