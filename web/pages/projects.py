"""Project pages: the filtered list, and one project's facts and checklist.

The checklist shows every item's guidance and evidence; the experts of the project's panel and
province admins get a form per item, posted to ``/projects/{id}/checklist/{code}`` (the JSON API's
item codes) and recorded by :func:`scheduler.checklist.update_item`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import aiohttp_jinja2
from aiohttp import web
from pydantic import ValidationError

from remote_check.accounts.access import Permission, Principal, ScopeKind, project_scope
from remote_check.checklist.labels import STANDARD_LABELS, STANDARD_SHORT
from remote_check.checklist.models import ChecklistItem, ItemResult, Standard
from remote_check.checklist.schemas import ChecklistItemUpdate
from remote_check.checklist.service import EDITABLE
from remote_check.errors import DomainError, Message, invalid
from remote_check.outcomes.verdict_labels import TOPIC_LABELS
from remote_check.programme.models import BusinessArea, ProjectStatus, SupplierKind
from remote_check.programme.pricing import percent
from remote_check.programme.schemas import ProjectQuery
from remote_check.programme.status import LABELS
from scheduler.access import may_mark, project_in_scope
from scheduler.checklist import update_item
from scheduler.projects import (
    get_project,
    list_cities,
    list_projects,
    project_checklist,
    visible_suppliers,
)
from scheduler.verdicts import suggestions_of
from web.context import lang_of
from web.inputs import validation_error
from web.keys import CLOCK, DB, SETTINGS
from web.pages.common import signed_in

routes = web.RouteTableDef()

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


def _page_url(filters: dict[str, str], page: int) -> str:
    return "/projects?" + urlencode({**filters, "page": str(page)})


@routes.get("/projects", name="projects")
@aiohttp_jinja2.template("projects.html")
async def projects_page(request: web.Request) -> dict[str, Any]:
    principal = signed_in(request, Permission.PROJECT_READ)
    lang = lang_of(request)
    raw = {k: v for k, v in request.query.items() if k in (*FILTER_KEYS, "page") and v.strip()}
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


def _summary(groups: list[tuple[str, list[ChecklistItem]]]) -> list[tuple[str, dict[str, int]]]:
    """``(standard, {result: count, "total": n})`` per standard, then ``("total", ...)`` over all."""
    rows: list[tuple[str, dict[str, int]]] = []
    overall = dict.fromkeys([*(r.value for r in ItemResult), "total"], 0)
    for standard, items in groups:
        counts = dict.fromkeys([*(r.value for r in ItemResult), "total"], 0)
        for item in items:
            counts[item.result.value] += 1
            counts["total"] += 1
        rows.append((standard, counts))
        for key, n in counts.items():
            overall[key] += n
    rows.append(("total", overall))
    return rows


async def _project_context(request: web.Request, principal: Principal, project_id: int) -> dict[str, Any]:
    """Everything project.html shows; ``NotFound`` when the project is outside the user's scope."""
    lang = lang_of(request)
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
        markable = bool(checklist) and await may_mark(session, principal, project_id)
        suggestions = await suggestions_of(session, project_id)
    groups = _grouped(checklist)
    return {
        "p": project,
        "status_label": LABELS[project.status].in_lang(lang),
        "area_label": AREA_LABELS[project.business_area].in_lang(lang),
        "kind_label": KIND_LABELS[project.supplier_kind].in_lang(lang),
        "groups": groups,
        "summary": _summary(groups),
        "standard_label": {s.value: STANDARD_LABELS[s].in_lang(lang) for s in Standard},
        "standard_short": {s.value: m.in_lang(lang) for s, m in STANDARD_SHORT.items()},
        "result_label": {r.value: RESULT_LABELS[r].in_lang(lang) for r in ItemResult},
        "results": [(r.value, RESULT_LABELS[r].in_lang(lang)) for r in ItemResult],
        "may_mark": markable,
        "problems": [
            {
                "topic": row.topic.value,
                "label": TOPIC_LABELS[row.topic].in_lang(lang),
                "text": row.text,
                "author": row.author,
                "at": row.created_at,
            }
            for row in suggestions
        ],
        "editable": project.status in EDITABLE,
        "error": "",
        "typed": {},
        "price_limit": sampling.price_over_listed,
        "min_paid_pct": f"{sampling.min_paid_ratio * 100:.0f}",
        "ratio_text": "" if project.price_ratio is None else str(project.price_ratio),
        "paid_pct": "" if project.paid_ratio is None else str(percent(project.paid_ratio)),
    }


@routes.get(r"/projects/{id:\d+}", name="project")
@aiohttp_jinja2.template("project.html")
async def project_page(request: web.Request) -> dict[str, Any]:
    """One project: its facts, declared modules and checklist (with forms for those who may mark)."""
    principal = signed_in(request, Permission.PROJECT_READ)
    return await _project_context(request, principal, int(request.match_info["id"]))


CHECKLIST_ITEM = r"/projects/{id:\d+}/checklist/{code:[A-Z]\d{1,3}}"
FIELD_LABELS = {"result": Message("结果", "Result"), "notes": Message("备注", "Notes")}


def _parse_mark(typed: dict[str, str], lang: str) -> ChecklistItemUpdate:
    """The form's fields as the API's update shape; a bad field is a 422 naming it."""
    try:
        return ChecklistItemUpdate.model_validate(typed)
    except ValidationError as exc:
        names = sorted({str(e["loc"][0]) for e in exc.errors(include_url=False) if e["loc"]})
        labels = [FIELD_LABELS[n] if n in FIELD_LABELS else Message(n, n) for n in names]
        raise invalid(
            "以下内容无效：" + "、".join(m.zh for m in labels),
            "Not valid: " + ", ".join(m.en for m in labels),
            field=",".join(names),
        ) from None


@routes.post(CHECKLIST_ITEM)
async def checklist_submit(request: web.Request) -> web.StreamResponse:
    """Record one item's result and notes from the project page, then go back to the item.

    A refusal shows the page again, with the reason at the item and what was typed kept.
    """
    principal = signed_in(request, Permission.CHECKLIST_WRITE)
    project_id, code = int(request.match_info["id"]), request.match_info["code"]
    form = await request.post()
    typed = {key: str(form[key]) for key in ("result", "notes") if key in form}
    try:
        update = _parse_mark(typed, lang_of(request))
        async with request.app[DB]() as session, session.begin():
            project = await project_in_scope(session, principal, project_id)
            await update_item(
                session,
                project.id,
                code,
                result=update.result,
                notes=update.notes,
                principal=principal,
                now=request.app[CLOCK].now(),
            )
    except DomainError as exc:
        # Outside the user's scope, this raises NotFound in turn: the plain 404 page.
        context = await _project_context(request, principal, project_id)
        context.update(error=exc.message.in_lang(lang_of(request)), typed={**typed, "code": code})
        return aiohttp_jinja2.render_template("project.html", request, context, status=exc.status)
    raise web.HTTPSeeOther(f"/projects/{project_id}#item-{code}")


@routes.get(CHECKLIST_ITEM)
async def checklist_item(request: web.Request) -> web.StreamResponse:
    """The item on its project page (where a refused form's page reloads or switches language)."""
    signed_in(request, Permission.PROJECT_READ)
    lang = request.query.get("lang")
    query = f"?{urlencode({'lang': lang})}" if lang else ""
    raise web.HTTPSeeOther(f"/projects/{request.match_info['id']}{query}#item-{request.match_info['code']}")
