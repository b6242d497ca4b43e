"""The booking form (``/sessions/new``) and the rescheduling form (``/sessions/{id}/move``).

Each is one form: the project, the time and the panel go together. Its "check experts'
conflicts" button (also pressed by ``static/sessions/book.js`` when the project changes) shows the
form again for the chosen project, with the experts tied to its parties marked and its supplier's
demonstration teams; "book" books. A refusal shows the form again with the reason and what was
typed; a time on a weekend or outside working hours is a warning to confirm with a tick.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import aiohttp_jinja2
from aiohttp import web
from multidict import MultiDictProxy

from remote_check.accounts.access import Permission, Principal
from remote_check.clock import SHANGHAI
from remote_check.errors import DomainError, invalid
from scheduler.agenda import lanes
from scheduler.booking import enterprise_resource, expert_resource, room_resource, supplier_resource
from scheduler.holds import NewHold, hold_time
from scheduler.queries import bookable_projects, experts_with_conflicts, session_detail
from scheduler.rules import Parties, load_parties
from scheduler.service import NewSession, book_session, move_session
from web.context import lang_of
from web.keys import CLOCK, DB
from web.pages.common import signed_in

routes = web.RouteTableDef()

FIELDS = ("date", "start", "end", "lead")
Form = MultiDictProxy[Any]


def _picked(form: Form) -> dict[str, str]:
    """The offered time whose button was pressed (``pick`` = ``date|start|end``), if any."""
    parts = str(form.get("pick", "")).split("|")
    return dict(zip(("date", "start", "end"), parts, strict=True)) if len(parts) == 3 else {}


def _values(form: Form) -> dict[str, Any]:
    """What was typed (or the offered time picked), to show the form again with it."""
    values: dict[str, Any] = {k: str(form.get(k, "")) for k in FIELDS}
    values.update(_picked(form))
    values["members"] = [str(v) for v in form.getall("members", [])]
    values["confirm"] = str(form.get("confirm_off_hours", "")) == "yes"
    return values


async def _projects(request: web.Request, principal: Principal) -> list[Any]:
    """The projects that can be booked (sampled), with their enterprise and supplier names."""
    async with request.app[DB]() as session:
        return await bookable_projects(session, principal)


async def _form_context(
    request: web.Request, principal: Principal, project_id: int | None, values: dict[str, Any] | None = None
) -> dict[str, Any]:
    values = values or {}
    async with request.app[DB]() as session:
        parties = await load_parties(session, principal, project_id) if project_id else None
        experts = await experts_with_conflicts(session, principal, project_id=project_id)
        day = _day(str(values.get("date", "")))
        free_busy = []
        if parties is not None and day is not None:
            rooms = parties.city_rooms
            named = _resources(parties, experts, rooms, lang_of(request))
            free_busy = await lanes(session, day, named, request.app[CLOCK].now())
    empty = {"date": "", "start": "", "end": "", "lead": "", "members": [], "confirm": False}
    return {
        "lanes": free_busy,
        "projects": await _projects(request, principal),
        "parties": parties,
        "experts": experts,
        "project_id": project_id,
        "error": "",
        "offers": [],
        "held_until": "",
        "warning": "",
        "values": {**empty, **values},
    }


def _day(raw: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        return None


def _resources(parties: Parties, experts: list[Any], rooms: int, lang: str) -> list[tuple[str, str]]:
    """The supplier's teams, the enterprise, the candidate experts (no conflict) and the city's
    rooms, with labels."""
    supplier = parties.supplier
    out = [
        (supplier_resource(supplier.id, k), f"{supplier.name} #{k + 1}")
        for k in range(max(1, supplier.teams))
    ]
    out.append((enterprise_resource(parties.enterprise.id), parties.enterprise.name))
    out.extend((expert_resource(e.id), e.name) for e, reasons in experts if not reasons)
    city = parties.project.city_code
    word = "room" if lang == "en" else "会议室"
    out.extend((room_resource(city, k), f"{word} {k + 1}") for k in range(max(1, rooms)))
    return out


def _project_of(raw: str) -> int | None:
    return int(raw) if raw.isdigit() else None


@routes.get("/sessions/new", name="session_new")
@aiohttp_jinja2.template("session_new.html")
async def new_session_page(request: web.Request) -> dict[str, Any]:
    """The booking form; with ``?project_id=`` experts with a conflict are marked."""
    principal = signed_in(request, Permission.SESSION_WRITE)
    return await _form_context(request, principal, _project_of(request.query.get("project_id", "")))


def _instant(day: str, clock: str, field: str) -> dt.datetime:
    try:
        return dt.datetime.combine(dt.date.fromisoformat(day), dt.time.fromisoformat(clock), tzinfo=SHANGHAI)
    except ValueError:
        raise invalid("日期或时间格式不正确", "The date or time is not valid", field=field) from None


def _ids(values: list[str]) -> list[int]:
    return [int(v) for v in values if v.isdigit()]


def _times(form: Form) -> tuple[dt.datetime, dt.datetime]:
    typed = {k: str(form.get(k, "")) for k in ("date", "start", "end")} | _picked(form)
    day = typed["date"]
    return _instant(day, typed["start"], "start"), _instant(day, typed["end"], "end")


def _offers(exc: DomainError) -> list[dict[str, str]]:
    """The times a refused booking offers (see ``scheduler.offers``), as the form's fields."""
    raw = exc.extra.get("suggestions")
    out = []
    for item in raw if isinstance(raw, list) else []:
        starts = dt.datetime.fromisoformat(item["starts_at"]).astimezone(SHANGHAI)
        ends = dt.datetime.fromisoformat(item["ends_at"]).astimezone(SHANGHAI)
        date, start, end = starts.date().isoformat(), f"{starts:%H:%M}", f"{ends:%H:%M}"
        out.append({"date": date, "start": start, "end": end, "pick": f"{date}|{start}|{end}"})
    return out


def _panel(form: Form) -> list[int]:
    """The lead first, then the members ticked (the lead once)."""
    lead = _ids([str(form.get("lead", ""))])
    return lead + [m for m in _ids([str(v) for v in form.getall("members", [])]) if m not in lead]


def _shown_again(
    request: web.Request, template: str, context: dict[str, Any], exc: DomainError
) -> web.Response:
    """The form again with what was typed, and above it a warning to confirm (off hours) or the error."""
    key = "warning" if exc.code == "needs_confirmation" else "error"
    context[key] = exc.message.in_lang(lang_of(request))
    context["offers"] = _offers(exc)
    return aiohttp_jinja2.render_template(template, request, context, status=exc.status)


@routes.post("/sessions/new")
async def new_session_submit(request: web.Request) -> web.StreamResponse:
    """Book from the form, or (its "check conflicts" button) show it again for the chosen project."""
    principal = signed_in(request, Permission.SESSION_WRITE)
    form = await request.post()
    project_id = _project_of(str(form.get("project_id", "")))
    values = _values(form)
    try:
        if project_id is None:
            raise invalid("请选择项目", "Choose a project", field="project_id")
        if "preview" in form:
            context = await _form_context(request, principal, project_id, values)
            return aiohttp_jinja2.render_template("session_new.html", request, context)
        starts, ends = _times(form)
        if "hold" in form:
            return await _hold(request, principal, NewHold(project_id, starts, ends, _panel(form)), values)
        new = NewSession(project_id, starts, ends, _panel(form), confirmed_off_hours=values["confirm"])
        async with request.app[DB]() as session, session.begin():
            check = await book_session(session, principal, new, now=request.app[CLOCK].now())
    except DomainError as exc:
        if exc.status == 404:
            raise
        context = await _form_context(request, principal, project_id, values)
        return _shown_again(request, "session_new.html", context, exc)
    raise web.HTTPSeeOther(f"/sessions/{check.id}")


async def _hold(
    request: web.Request, principal: Principal, new: NewHold, values: dict[str, Any]
) -> web.StreamResponse:
    """Hold the time for 5 minutes and show the form again, saying until when."""
    async with request.app[DB]() as session, session.begin():
        hold = await hold_time(session, principal, new, now=request.app[CLOCK].now())
    context = await _form_context(request, principal, new.project_id, values)
    context["held_until"] = f"{hold.expires_at.astimezone(SHANGHAI):%H:%M}"
    return aiohttp_jinja2.render_template("session_new.html", request, context)


MOVE = r"/sessions/{session_id:\d+}/move"


async def _move_context(
    request: web.Request, principal: Principal, session_id: int, values: dict[str, Any] | None = None
) -> dict[str, Any]:
    async with request.app[DB]() as session:
        detail = await session_detail(session, principal, session_id)
        experts = await experts_with_conflicts(session, principal, project_id=detail.session.project_id)
    check = detail.session
    starts, ends = check.starts_at.astimezone(SHANGHAI), check.ends_at.astimezone(SHANGHAI)
    panel = [str(e.id) for _, e in detail.panel]
    current = {
        "date": starts.date().isoformat(),
        "start": starts.strftime("%H:%M"),
        "end": ends.strftime("%H:%M"),
        "lead": panel[0] if panel else "",
        "members": panel[1:],
        "confirm": False,
    }
    return {
        "d": detail,
        "s": check,
        "p": detail.parties,
        "experts": experts,
        "error": "",
        "offers": [],
        "held_until": "",
        "warning": "",
        "values": {**current, **(values or {})},
    }


@routes.get(MOVE, name="session_move")
@aiohttp_jinja2.template("session_move.html")
async def move_page(request: web.Request) -> dict[str, Any]:
    """The rescheduling form, filled with the session's time and panel."""
    principal = signed_in(request, Permission.SESSION_WRITE)
    return await _move_context(request, principal, int(request.match_info["session_id"]))


@routes.post(MOVE)
async def move_submit(request: web.Request) -> web.StreamResponse:
    """Reschedule: a new time and panel under the booking's rules; the guests' links follow."""
    principal = signed_in(request, Permission.SESSION_WRITE)
    session_id = int(request.match_info["session_id"])
    form = await request.post()
    values = _values(form)
    try:
        starts, ends = _times(form)
        async with request.app[DB]() as session, session.begin():
            await move_session(
                session,
                principal,
                session_id,
                starts,
                ends,
                now=request.app[CLOCK].now(),
                panel=_panel(form),
                confirmed_off_hours=values["confirm"],
            )
    except DomainError as exc:
        if exc.status == 404:
            raise
        context = await _move_context(request, principal, session_id, values)
        return _shown_again(request, "session_move.html", context, exc)
    raise web.HTTPSeeOther(f"/sessions/{session_id}")
