"""Money pages (资金下达): a city's budgets and deadline warning, a period's allocation with its reasons."""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from remote_check.accounts.access import (
    Permission,
    Principal,
    ScopeKind,
    allowed,
    project_scope,
    require_city,
)
from remote_check.errors import DomainError, Message, NotFound
from remote_check.funding import service
from remote_check.funding.allocation import REASON_LABELS
from remote_check.funding.models import AllocationStatus
from remote_check.funding.schemas import BudgetChange, PeriodCreate
from remote_check.programme.cities import BY_CODE, CITIES
from remote_check.programme.status import LABELS as STATUS_LABELS
from scheduler.deadline import check_cities, check_city
from scheduler.planning.service import PlanningOptions
from web.context import lang_of
from web.keys import CLOCK, DB, SETTINGS
from web.pages.common import parse_form, signed_in

routes = web.RouteTableDef()

LABELS = {
    "name": Message("结算期名称", "Period name"),
    "budget": Message("预算", "Budget"),
    "money_deadline": Message("资金下达期限", "Money deadline"),
}


def _city_name(request: web.Request, code: str) -> str:
    city = next((c for c in CITIES if c.code == code), None)
    if city is None:
        return code
    return city.name_en if lang_of(request) == "en" else city.name_zh


async def _form(request: web.Request) -> dict[str, str]:
    return {k: str(v).strip() for k, v in (await request.post()).items()}


@routes.get("/funding", name="funding")
async def funding_index(request: web.Request) -> web.StreamResponse:
    principal = signed_in(request, Permission.FUNDING_READ)
    scope = project_scope(principal)
    if scope.kind == ScopeKind.CITY and scope.city_code:
        raise web.HTTPSeeOther(f"/funding/{scope.city_code}")
    settings = request.app[SETTINGS]
    async with request.app[DB]() as session:
        checks = await check_cities(
            session,
            [c.code for c in CITIES if c.in_round],
            now=request.app[CLOCK].now(),
            options=PlanningOptions.of(settings.planning),
            settings=settings.funding,
        )
    rows = [(check, _city_name(request, check.city_code)) for check in checks]
    return aiohttp_jinja2.render_template(
        "funding/index.html", request, {"rows": rows, "at_risk": sum(c.at_risk for c in checks)}
    )


async def _city_context(
    session: AsyncSession, request: web.Request, principal: Principal, city_code: str
) -> dict[str, Any]:
    settings = request.app[SETTINGS]
    check = await check_city(
        session,
        city_code,
        now=request.app[CLOCK].now(),
        options=PlanningOptions.of(settings.planning),
        settings=settings.funding,
    )
    return {
        "city_code": city_code,
        "city": _city_name(request, city_code),
        "periods": await service.list_periods(session, principal, city_code),
        "deadline": check,
        "deadline_message": check.message().in_lang(lang_of(request)),
        "default_deadline": settings.funding.money_deadline,
        "can_write": allowed(principal, Permission.FUNDING_WRITE),
        "error": "",
        "form": {},
    }


@routes.get("/funding/{city:\\d{4}}", name="funding_city")
async def city_page(request: web.Request) -> web.StreamResponse:
    principal = signed_in(request, Permission.FUNDING_READ)
    city_code = request.match_info["city"]
    if city_code not in BY_CODE:
        raise NotFound("城市", "City")
    require_city(principal, city_code)
    async with request.app[DB]() as session:
        context = await _city_context(session, request, principal, city_code)
    return aiohttp_jinja2.render_template("funding/city.html", request, context)


@routes.post("/funding/{city:\\d{4}}/periods")
async def create_period(request: web.Request) -> web.StreamResponse:
    principal = signed_in(request, Permission.FUNDING_WRITE)
    city_code = request.match_info["city"]
    require_city(principal, city_code)
    form = await _form(request)
    try:
        typed: dict[str, Any] = {k: v for k, v in form.items() if k in LABELS and v}
        body = parse_form(PeriodCreate, {**typed, "city_code": city_code}, LABELS)
        async with request.app[DB]() as session, session.begin():
            period = await service.create_period(
                session,
                principal,
                city_code=city_code,
                name=body.name,
                budget=body.budget,
                money_deadline=body.money_deadline,
                settings=request.app[SETTINGS].funding,
                now=request.app[CLOCK].now(),
            )
            period_id = period.id
    except DomainError as exc:
        if exc.status == 403:
            raise
        async with request.app[DB]() as session:
            context = await _city_context(session, request, principal, city_code)
        context.update(error=exc.message.in_lang(lang_of(request)), form=form)
        return aiohttp_jinja2.render_template("funding/city.html", request, context, status=exc.status)
    raise web.HTTPSeeOther(f"/funding/periods/{period_id}")


async def _period_context(
    session: AsyncSession, request: web.Request, principal: Principal, period_id: int
) -> dict[str, Any]:
    period = await service.get_period(session, principal, period_id)
    plan = await service.latest_plan(session, period.id)
    lines = await service.plan_lines(session, plan.id) if plan is not None else []
    lang = lang_of(request)
    return {
        "period": period,
        "city": _city_name(request, period.city_code),
        "plan": plan,
        "applied": plan is not None and plan.status == AllocationStatus.APPLIED,
        "lines": [
            (
                line,
                project,
                REASON_LABELS[line.reason].in_lang(lang),
                STATUS_LABELS[project.status].in_lang(lang),
            )
            for line, project in lines
        ],
        "can_write": allowed(principal, Permission.FUNDING_WRITE),
        "error": "",
        "form": {},
    }


def _period_id(request: web.Request) -> int:
    return int(request.match_info["id"])


@routes.get("/funding/periods/{id:\\d+}", name="funding_period")
async def period_page(request: web.Request) -> web.StreamResponse:
    principal = signed_in(request, Permission.FUNDING_READ)
    async with request.app[DB]() as session:
        context = await _period_context(session, request, principal, _period_id(request))
    return aiohttp_jinja2.render_template("funding/period.html", request, context)


async def _period_refusal(
    request: web.Request, principal: Principal, exc: DomainError, form: dict[str, str]
) -> web.StreamResponse:
    if exc.status in (403, 404):
        raise exc
    async with request.app[DB]() as session:
        context = await _period_context(session, request, principal, _period_id(request))
    context.update(error=exc.message.in_lang(lang_of(request)), form=form)
    return aiohttp_jinja2.render_template("funding/period.html", request, context, status=exc.status)


@routes.post("/funding/periods/{id:\\d+}/budget")
async def change_budget(request: web.Request) -> web.StreamResponse:
    principal = signed_in(request, Permission.FUNDING_WRITE)
    form = await _form(request)
    try:
        body = parse_form(BudgetChange, {"budget": form.get("budget", "")}, LABELS)
        async with request.app[DB]() as session, session.begin():
            await service.set_budget(
                session, principal, _period_id(request), body.budget, now=request.app[CLOCK].now()
            )
    except DomainError as exc:
        return await _period_refusal(request, principal, exc, form)
    raise web.HTTPSeeOther(f"/funding/periods/{_period_id(request)}")


@routes.post("/funding/periods/{id:\\d+}/compute")
async def compute(request: web.Request) -> web.StreamResponse:
    principal = signed_in(request, Permission.FUNDING_WRITE)
    try:
        async with request.app[DB]() as session, session.begin():
            await service.compute_draft(
                session,
                principal,
                _period_id(request),
                request.app[SETTINGS].funding,
                now=request.app[CLOCK].now(),
            )
    except DomainError as exc:
        return await _period_refusal(request, principal, exc, {})
    raise web.HTTPSeeOther(f"/funding/periods/{_period_id(request)}")


@routes.post("/funding/periods/{id:\\d+}/apply")
async def apply(request: web.Request) -> web.StreamResponse:
    principal = signed_in(request, Permission.FUNDING_WRITE)
    form = await _form(request)
    try:
        plan_id = int(form.get("plan_id", "0") or "0")
        async with request.app[DB]() as session, session.begin():
            period = await service.get_period(session, principal, _period_id(request))
            plan = await service.latest_plan(session, period.id)
            if plan is None or plan.id != plan_id:
                raise DomainError(
                    Message(
                        "方案已更新，请查看后再执行", "The plan changed: look at it again before applying"
                    ),
                    409,
                    "conflict",
                )
            await service.apply_plan(
                session, principal, plan_id, request.app[SETTINGS].funding, now=request.app[CLOCK].now()
            )
    except DomainError as exc:
        return await _period_refusal(request, principal, exc, form)
    raise web.HTTPSeeOther(f"/funding/periods/{_period_id(request)}")
