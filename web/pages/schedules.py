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
from scheduler.agenda import (
    Block,
    by_day,
    city_week,
    expert_schedule,
    monday_of,
    room_slots,
    supplier_week,
    week_days,
)
from scheduler.availability import city_rooms
from scheduler.booking import WORKING_HOURS
from web.context import lang_of
from web.keys import CLOCK, DB_READ
from web.pages.common import signed_in

routes = web.RouteTableDef()

PX_PER_MINUTE = 1.0
"""The calendar grid's scale (its script positions the blocks with it)."""


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


def _hours(blocks: list[Block]) -> tuple[int, int]:
    """The grid's first and last hour: the working hours, widened to every block of the week."""
    first, last = WORKING_HOURS[0].hour, WORKING_HOURS[1].hour
    for b in blocks:
        starts, ends = b.starts_at.astimezone(SHANGHAI), b.ends_at.astimezone(SHANGHAI)
        first = min(first, starts.hour)
        if ends.date() > starts.date():
            last = 24
        else:
            last = max(last, ends.hour + (1 if ends.minute or ends.second else 0))
    return first, last


def minute_of_day(instant: dt.datetime) -> int:
    """Minutes since local (China) midnight."""
    t = instant.astimezone(SHANGHAI)
    return t.hour * 60 + t.minute


@routes.get("/calendar", name="calendar")
@aiohttp_jinja2.template("calendar.html")
async def calendar_page(request: web.Request) -> dict[str, Any]:
    """A city's week: its days as columns split into its rooms, a time grid, its checks as blocks
    (each movable by drag and drop, which calls the move API, or by its form)."""
    principal = signed_in(request, Permission.SESSION_READ)
    city = request.query.get("city", "") or principal.city_code or ""
    if city not in BY_CODE:
        raise NotFound("城市", "City")
    require_city(principal, city)
    monday = _week(request)
    async with request.app[DB_READ]() as session:
        blocks = await city_week(session, principal, city, monday)
        slots = await room_slots(session, [b.row.session.id for b in blocks if b.row])
        rooms = await city_rooms(session, city)
    lang = lang_of(request)
    first, last = _hours(blocks)
    return {
        "city_code": city,
        "rooms": rooms,
        "slots": slots,
        "first_minute": first * 60,
        "last_minute": last * 60,
        "hours": list(range(first, last)),
        "px_per_minute": PX_PER_MINUTE,
        "city_name": _city_name(city, lang),
        "cities": [(c.code, c.name_en if lang == "en" else c.name_zh) for c in CITIES],
        "monday": monday,
        "days": week_days(monday),
        "blocks": by_day(blocks),
        "count": len(blocks),
        "city": lambda code: _city_name(code, lang),
        "minute_of_day": minute_of_day,
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
