"""Schedules: a city's week (``/calendar``), a supplier's commitments across all cities
(``/suppliers/{id}/schedule``) and an expert's own checks (``/me/schedule``).

Each page checks who is asking: the calendar needs the city to be theirs (the province sees every
city), the supplier's page shows in detail only the sessions the viewer's scope holds and the rest
as busy blocks (city and time, no project), ``/me/schedule`` is for experts.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from remote_check.accounts.access import Permission, require_city
from remote_check.accounts.models import Role
from remote_check.clock import SHANGHAI
from remote_check.errors import Forbidden, Message, NotFound, invalid
from remote_check.programme.cities import BY_CODE, CITIES
from remote_check.programme.models import Supplier
from scheduler.agenda import by_day, city_week, expert_schedule, monday_of, supplier_week, week_days
from web.context import lang_of
from web.keys import CLOCK, DB_READ
from web.pages.common import signed_in

routes = web.RouteTableDef()


def _week(request: web.Request) -> dt.date:
    """The Monday of the week asked for (``?week=`` any day of it), else of this week."""
    raw = request.query.get("week", "")
    if not raw:
        return monday_of(request.app[CLOCK].now().astimezone(SHANGHAI).date())
    try:
        return monday_of(dt.date.fromisoformat(raw))
    except ValueError:
        raise invalid("周的日期格式不正确", "The week is not a valid date", field="week") from None


def _city_name(code: str, lang: str) -> str:
    city = BY_CODE.get(code)
    return code if city is None else (city.name_en if lang == "en" else city.name_zh)


def _weeks(monday: dt.date) -> dict[str, str]:
    return {
        "prev_week": (monday - dt.timedelta(days=7)).isoformat(),
        "next_week": (monday + dt.timedelta(days=7)).isoformat(),
    }


@routes.get("/calendar", name="calendar")
@aiohttp_jinja2.template("calendar.html")
async def calendar_page(request: web.Request) -> dict[str, Any]:
    """A city's week: its days as columns, its checks as blocks (each movable by its form)."""
    principal = signed_in(request, Permission.SESSION_READ)
    city = request.query.get("city", "") or principal.city_code or ""
    if city not in BY_CODE:
        raise NotFound("城市", "City")
    require_city(principal, city)
    monday = _week(request)
    async with request.app[DB_READ]() as session:
        blocks = await city_week(session, principal, city, monday)
    lang = lang_of(request)
    return {
        "city_code": city,
        "city_name": _city_name(city, lang),
        "cities": [(c.code, c.name_en if lang == "en" else c.name_zh) for c in CITIES],
        "monday": monday,
        "days": week_days(monday),
        "blocks": by_day(blocks),
        "count": len(blocks),
        "city": lambda code: _city_name(code, lang),
        **_weeks(monday),
    }


@routes.get(r"/suppliers/{supplier_id:\d+}/schedule", name="supplier_schedule")
@aiohttp_jinja2.template("supplier_schedule.html")
async def supplier_page(request: web.Request) -> dict[str, Any]:
    """A supplier's checks in every city for a week; other scopes' checks only as busy blocks."""
    principal = signed_in(request, Permission.SESSION_READ)
    if principal.role == Role.EXPERT:
        raise Forbidden(Message("专家只能查看自己的日程", "Experts see their own schedule only"))
    monday = _week(request)
    async with request.app[DB_READ]() as session:
        supplier = await session.get(Supplier, int(request.match_info["supplier_id"]))
        if supplier is None:
            raise NotFound("服务商", "Supplier")
        blocks = await supplier_week(session, principal, supplier.id, monday)
    lang = lang_of(request)
    return {
        "supplier": supplier,
        "monday": monday,
        "days": week_days(monday),
        "blocks": by_day(blocks),
        "count": len(blocks),
        "city": lambda code: _city_name(code, lang),
        **_weeks(monday),
    }


@routes.get("/me/schedule", name="my_schedule")
@aiohttp_jinja2.template("my_schedule.html")
async def my_schedule_page(request: web.Request) -> dict[str, Any]:
    """The signed-in expert's checks from today on."""
    principal = signed_in(request)
    if principal.expert_id is None:
        raise Forbidden(
            Message("只有专家账号有个人核查日程", "Only expert accounts have a schedule of checks")
        )
    today = request.app[CLOCK].now().astimezone(SHANGHAI).date()
    async with request.app[DB_READ]() as session:
        blocks = await expert_schedule(session, principal, today)
    lang = lang_of(request)
    return {"blocks": by_day(blocks), "count": len(blocks), "city": lambda code: _city_name(code, lang)}
