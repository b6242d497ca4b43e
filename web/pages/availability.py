"""A city's availability page (``/cities/{code}/availability``), for its coordinators and the
province: the unavailability of the experts serving the city and of its enterprises, its closed
days and its rooms, each listed with a form to add and a button to remove. The forms go through
the API's request models and domain functions (:mod:`web.api.availability`): another city is 403,
bad input a 4xx page naming the field and changing nothing, every change audited."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from remote_check.accounts.access import Permission, Principal
from remote_check.audit.service import Actor
from remote_check.errors import DomainError, Message
from remote_check.programme.cities import BY_CODE, CITIES
from scheduler.availability_admin import set_city_rooms
from scheduler.availability_city import (
    add_city_unavailability,
    check_city,
    city_availability,
    close_day_of_city,
    parse_day,
    remove_city_unavailability,
    reopen_city_day,
)
from scheduler.availability_schemas import ClosedDayCreate, RoomsUpdate, UnavailableCreate
from web.context import lang_of
from web.keys import CLOCK, DB
from web.pages.common import parse_form, signed_in

routes = web.RouteTableDef()

PAGE = r"/cities/{code:\d{4}}/availability"
LABELS = {
    "kind": Message("类型", "Kind"),
    "party_id": Message("专家或企业", "Expert or enterprise"),
    "starts_at": Message("开始时间", "Start"),
    "ends_at": Message("结束时间", "End"),
    "reason": Message("原因", "Reason"),
    "day": Message("日期", "Day"),
    "rooms": Message("会议室数", "Rooms"),
}
DONE = {
    "unavailable": Message("已登记不可用时间。", "Unavailability recorded."),
    "available": Message("已删除不可用时间。", "Unavailability removed."),
    "closed": Message("已登记停止核查日。", "Closed day recorded."),
    "reopened": Message("已取消停止核查日。", "The day is open again."),
    "rooms": Message("已更新会议室数。", "Rooms updated."),
}
_LOCAL = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$")


def _instant(text: str) -> str:
    """A ``datetime-local`` value is China time: given its offset for the API's model."""
    text = text.strip()
    return f"{text}:00+08:00" if _LOCAL.match(text) else text


async def _render(
    request: web.Request,
    principal: Principal,
    code: str,
    *,
    error: str = "",
    form: dict[str, str] | None = None,
) -> dict[str, Any]:
    lang = lang_of(request)
    async with request.app[DB]() as session:
        found = await city_availability(session, principal, code, now=request.app[CLOCK].now())
    city = BY_CODE[code]
    return {
        "found": found,
        "city_code": code,
        "city_name": city.name_en if lang == "en" else city.name_zh,
        "cities": [(c.code, c.name_en if lang == "en" else c.name_zh) for c in CITIES],
        "error": error,
        "form": form or {},
        "done": DONE[request.query["done"]].in_lang(lang) if request.query.get("done") in DONE else "",
        "affected": [int(i) for i in request.query.get("affected", "").split(",")[:50] if i.isdigit()],
    }


@routes.get("/availability", name="availability")
async def my_city(request: web.Request) -> web.StreamResponse:
    """The page of ``?city=``, else of the signed-in coordinator's city (the province's first city
    for an administrator)."""
    principal = signed_in(request, Permission.AVAILABILITY_WRITE)
    asked = request.query.get("city", "")
    code = asked if asked in BY_CODE else principal.city_code or CITIES[0].code
    raise web.HTTPSeeOther(f"/cities/{code}/availability")


@routes.get(PAGE, name="city_availability")
async def page(request: web.Request) -> web.StreamResponse:
    principal = signed_in(request, Permission.AVAILABILITY_WRITE)
    context = await _render(request, principal, request.match_info["code"])
    return aiohttp_jinja2.render_template("availability.html", request, context)


async def _act(request: web.Request, work: Any, done: str, form: dict[str, str]) -> web.StreamResponse:
    """Run ``work(session, principal, code, now)`` in one transaction; then back to the page (with
    the checks already booked that the change concerns, if ``work`` returns them), or the page again
    with the refusal (its 4xx status) and what was typed."""
    principal = signed_in(request, Permission.AVAILABILITY_WRITE)
    code = request.match_info["code"]
    try:
        async with request.app[DB]() as session, session.begin():
            await check_city(session, principal, code)
            affected = await work(session, principal, code, request.app[CLOCK].now())
    except DomainError as exc:
        if exc.status in (401, 403, 404):
            raise
        context = await _render(
            request, principal, code, error=exc.message.in_lang(lang_of(request)), form=form
        )
        return aiohttp_jinja2.render_template("availability.html", request, context, status=exc.status)
    also = f"&affected={','.join(map(str, affected))}" if affected else ""
    raise web.HTTPSeeOther(f"/cities/{code}/availability?done={done}{also}")


async def _form(request: web.Request, *names: str) -> dict[str, str]:
    posted = await request.post()
    return {n: str(posted.get(n, "")).strip() for n in names}


@routes.post(PAGE + "/unavailable")
async def add_unavailable(request: web.Request) -> web.StreamResponse:
    form = await _form(request, "party", "starts_at", "ends_at", "reason")
    kind, _, party_id = form["party"].partition(":")

    async def work(session: Any, principal: Principal, code: str, now: dt.datetime) -> tuple[int, ...]:
        data = {
            "kind": kind,
            "party_id": party_id,
            "starts_at": _instant(form["starts_at"]),
            "ends_at": _instant(form["ends_at"]),
            "reason": form["reason"],
        }
        body = parse_form(UnavailableCreate, data, LABELS)
        entry = await add_city_unavailability(
            session,
            principal,
            code,
            body.kind,
            body.party_id,
            body.starts_at,
            body.ends_at,
            body.reason,
            now=now,
        )
        return entry.affected

    return await _act(request, work, "unavailable", form)


@routes.post(PAGE + r"/unavailable/{entry_id:\d+}/delete")
async def remove_unavailable(request: web.Request) -> web.StreamResponse:
    entry_id = int(request.match_info["entry_id"])

    async def work(session: Any, principal: Principal, code: str, now: dt.datetime) -> None:
        await remove_city_unavailability(session, principal, code, entry_id, now=now)

    return await _act(request, work, "available", {})


@routes.post(PAGE + "/closed")
async def close_day(request: web.Request) -> web.StreamResponse:
    form = await _form(request, "day", "reason")

    async def work(session: Any, principal: Principal, code: str, now: dt.datetime) -> tuple[int, ...]:
        body = parse_form(ClosedDayCreate, form, LABELS)
        return await close_day_of_city(session, principal, code, body.day, body.reason, now=now)

    return await _act(request, work, "closed", form)


@routes.post(PAGE + r"/closed/{day:\d{4}-\d{2}-\d{2}}/delete")
async def reopen_day(request: web.Request) -> web.StreamResponse:
    day = parse_day(request.match_info["day"])

    async def work(session: Any, principal: Principal, code: str, now: dt.datetime) -> None:
        await reopen_city_day(session, principal, code, day, now=now)

    return await _act(request, work, "reopened", {})


@routes.post(PAGE + "/rooms")
async def rooms(request: web.Request) -> web.StreamResponse:
    form = await _form(request, "rooms")

    async def work(session: Any, principal: Principal, code: str, now: dt.datetime) -> None:
        body = parse_form(RoomsUpdate, form, LABELS)
        await set_city_rooms(session, code, body.rooms, actor=Actor.of(principal), now=now)

    return await _act(request, work, "rooms", form)
