"""The money of a city (资金下达): settlement periods and budgets, allocation plans, the CSV, the deadline.

A city coordinator sees and changes only their own city's (403 for another city); the province sees
every city's; an auditor reads.
"""

from __future__ import annotations

from aiohttp import web

from remote_check.accounts.access import Permission, require_city
from remote_check.audit.service import Actor, record
from remote_check.errors import NotFound
from remote_check.funding import service
from remote_check.funding.exports import plan_csv
from remote_check.funding.models import AllocationPlan
from remote_check.funding.schemas import (
    BudgetChange,
    DeadlineOut,
    PeriodCreate,
    PeriodList,
    PeriodOut,
    PlanCompute,
    PlanOut,
    period_out,
    plan_out,
)
from remote_check.programme.cities import BY_CODE
from scheduler.deadline import DeadlineCheck, check_city
from scheduler.planning.service import PlanningOptions
from web.api.registry import Api, Call
from web.keys import CLOCK, SETTINGS

api = Api("funding")

PERIOD = r"/api/funding/periods/{period_id:\d+}"
PLAN = r"/api/funding/plans/{plan_id:\d+}"
CITY = r"/api/funding/cities/{city_code:\d{4}}"


def _city(call: Call) -> str:
    """The path's city, if it is one of the 21 and the caller sees it (else 404/403)."""
    city_code = call.request.match_info["city_code"]
    if city_code not in BY_CODE:
        raise NotFound("城市", "City")
    require_city(call.user, city_code)
    return city_code


def deadline_out(check: DeadlineCheck, lang: str) -> DeadlineOut:
    return DeadlineOut(
        city_code=check.city_code,
        deadline=check.deadline,
        last_check_day=check.last_check_day,
        working_days=check.working_days,
        rooms=check.rooms,
        checks_per_room_day=check.per_room_day,
        capacity=check.capacity,
        remaining=check.remaining,
        booked_late=check.booked_late,
        at_risk=check.at_risk,
        message=check.message().in_lang(lang),
    )


@api.get(CITY + "/periods", summary="A city's settlement periods", permission=Permission.FUNDING_READ)
async def list_periods(call: Call) -> PeriodList:
    async with call.read() as session:
        periods = await service.list_periods(session, call.user, _city(call))
    return PeriodList(items=[period_out(p) for p in periods])


@api.get(
    CITY + "/deadline",
    summary="Whether the city's remaining checks can finish before its money deadline",
    permission=Permission.FUNDING_READ,
)
async def city_deadline(call: Call) -> DeadlineOut:
    city_code = _city(call)
    settings = call.request.app[SETTINGS]
    async with call.read() as session:
        check = await check_city(
            session,
            city_code,
            now=call.request.app[CLOCK].now(),
            options=PlanningOptions.of(settings.planning),
            settings=settings.funding,
        )
    return deadline_out(check, call.lang)


@api.post(
    "/api/funding/periods",
    summary="Open a settlement period with its budget",
    permission=Permission.FUNDING_WRITE,
    status=201,
)
async def create_period(call: Call, body: PeriodCreate) -> PeriodOut:
    require_city(call.user, body.city_code)
    async with call.transaction() as session:
        period = await service.create_period(
            session,
            call.user,
            city_code=body.city_code,
            name=body.name,
            budget=body.budget,
            money_deadline=body.money_deadline,
            settings=call.request.app[SETTINGS].funding,
            now=call.request.app[CLOCK].now(),
        )
        return period_out(period)


@api.patch(
    PERIOD,
    summary="Change a period's budget (before its plan is applied)",
    permission=Permission.FUNDING_WRITE,
)
async def change_budget(call: Call, body: BudgetChange) -> PeriodOut:
    async with call.transaction() as session:
        period = await service.set_budget(
            session, call.user, call.path_int("period_id"), body.budget, now=call.request.app[CLOCK].now()
        )
        return period_out(period)


@api.post(
    PERIOD + "/plans",
    summary="Compute a draft allocation of the period (replaces an earlier draft)",
    permission=Permission.FUNDING_WRITE,
    status=201,
)
async def compute_plan(call: Call, body: PlanCompute) -> PlanOut:
    del body
    async with call.transaction() as session:
        plan = await service.compute_draft(
            session,
            call.user,
            call.path_int("period_id"),
            call.request.app[SETTINGS].funding,
            now=call.request.app[CLOCK].now(),
        )
        return plan_out(plan, await service.plan_lines(session, plan.id), call.lang)


@api.get(
    PERIOD + "/plan",
    summary="The period's applied plan, else its latest draft",
    permission=Permission.FUNDING_READ,
)
async def current_plan(call: Call) -> PlanOut:
    async with call.read() as session:
        period = await service.get_period(session, call.user, call.path_int("period_id"))
        plan = await service.latest_plan(session, period.id)
        if plan is None:
            raise NotFound("分配方案", "Allocation plan")
        return plan_out(plan, await service.plan_lines(session, plan.id), call.lang)


@api.post(
    PLAN + "/apply",
    summary="Apply a draft: funded projects paid, the ones the budget could not pay carried over (once)",
    permission=Permission.FUNDING_WRITE,
)
async def apply_plan(call: Call, body: PlanCompute) -> PlanOut:
    del body
    async with call.transaction() as session:
        applied = await service.apply_plan(
            session,
            call.user,
            call.path_int("plan_id"),
            call.request.app[SETTINGS].funding,
            now=call.request.app[CLOCK].now(),
        )
        return plan_out(applied.plan, await service.plan_lines(session, applied.plan.id), call.lang)


@api.get(
    PLAN + "/export.csv",
    summary="A plan's lines as CSV (audited)",
    permission=Permission.FUNDING_READ,
    produces="text/csv",
)
async def export_plan(call: Call) -> web.Response:
    principal = call.user
    async with call.transaction() as session:
        plan = await session.get(AllocationPlan, call.path_int("plan_id"))
        if plan is None:
            raise NotFound("分配方案", "Allocation plan")
        period = await service.get_period(session, principal, plan.period_id)
        text = plan_csv(plan, await service.plan_lines(session, plan.id))
        await record(
            session,
            Actor.of(principal),
            "allocation.export",
            f"allocation:{plan.id}",
            at=call.request.app[CLOCK].now(),
            city_code=period.city_code,
        )
    return web.Response(
        body=text.encode("utf-8"),
        content_type="text/csv",
        charset="utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="allocation-{plan.id}-{period.city_code}.csv"'
        },
    )
