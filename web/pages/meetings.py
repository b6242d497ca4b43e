"""Province meeting pages: the list and the create form (the province), a meeting's per-city view
with the nominate form (a coordinator: their city only), and the nominee's personal pages under
``/m/<token>``: the landing page, the signal test (the connectivity test page of issue 3, reused)
and the room page (attendance and the text Q&A; the receive-only media room is not built yet)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import quote

import aiohttp_jinja2
from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from remote_check.accounts.access import Permission, ScopeKind, allowed, project_scope
from remote_check.accounts.models import User
from remote_check.clock import SHANGHAI, format_local
from remote_check.errors import DomainError, Message, invalid
from remote_check.programme.cities import CITIES
from scheduler.connectivity import Measured
from scheduler.invitations import InvitationRefused
from scheduler.meetings import links, qa, service
from scheduler.meetings import overview as ov
from scheduler.meetings.models import Meeting, Nomination, NomineeRole
from scheduler.meetings.schemas import MeetingCreate, NominationCreate
from web.context import lang_of
from web.keys import CLOCK, DB, DB_READ, SECRET, SETTINGS
from web.pages.common import parse_form, signed_in
from web.pages.connectivity import _echo, _page, _result

routes = web.RouteTableDef()

MEETING = r"/meetings/{meeting_id:\d+}"
LINK = r"/m/{token:[0-9A-Za-z._-]{1,200}}"
LABELS = {
    "title": Message("会议名称", "Title"),
    "starts_at": Message("开始时间", "Start"),
    "ends_at": Message("结束时间", "End"),
    "city_quota": Message("每市名额", "Per-city quota"),
    "organisation": Message("单位", "Organisation"),
    "name": Message("姓名", "Name"),
    "email": Message("电子邮箱", "E-mail"),
    "role": Message("身份", "Role"),
}
ROLE_LABELS = {NomineeRole.STAFF: Message("工作人员", "Staff"), NomineeRole.EXPERT: Message("专家", "Expert")}


def _local(raw: str, field: str) -> dt.datetime:
    """A ``datetime-local`` field, read as China time."""
    try:
        value = dt.datetime.fromisoformat(raw)
    except ValueError:
        raise invalid("时间格式应为 2020-04-08T09:00", "A time reads 2020-04-08T09:00", field=field) from None
    return value if value.tzinfo else value.replace(tzinfo=SHANGHAI)


async def _list_context(request: web.Request, form: dict[str, str], error: str) -> dict[str, Any]:
    principal = signed_in(request, Permission.MEETING_NOMINATE)
    async with request.app[DB_READ]() as session:
        meetings = await ov.list_meetings(session, principal)
    return {
        "meetings": meetings,
        "may_create": allowed(principal, Permission.MEETING_WRITE),
        "form": form,
        "error": error,
        "local": format_local,
    }


@routes.get("/meetings", name="meetings")
async def meetings_page(request: web.Request) -> web.StreamResponse:
    """The province's meetings; the province also sees the form to create one."""
    form = {"title": "", "starts_at": "", "ends_at": "", "city_quota": "12"}
    return aiohttp_jinja2.render_template(
        "meetings/list.html", request, await _list_context(request, form, "")
    )


@routes.post("/meetings")
async def meetings_create(request: web.Request) -> web.StreamResponse:
    principal = signed_in(request, Permission.MEETING_WRITE)
    posted = await request.post()
    form = {k: str(posted.get(k, "")).strip() for k in ("title", "starts_at", "ends_at", "city_quota")}
    try:
        body = parse_form(
            MeetingCreate,
            {
                "title": form["title"],
                "starts_at": _local(form["starts_at"], "starts_at"),
                "ends_at": _local(form["ends_at"], "ends_at"),
                "city_quota": form["city_quota"] or "12",
            },
            LABELS,
        )
        fields = service.MeetingFields(body.title, body.starts_at, body.ends_at, body.kind, body.city_quota)
        async with request.app[DB]() as session, session.begin():
            meeting = await service.create_meeting(session, principal, fields, now=request.app[CLOCK].now())
    except DomainError as exc:
        context = await _list_context(request, form, exc.message.in_lang(lang_of(request)))
        return aiohttp_jinja2.render_template("meetings/list.html", request, context, status=exc.status)
    raise web.HTTPSeeOther(f"/meetings/{meeting.id}")


async def _meeting_context(
    request: web.Request, error: str = "", form: dict[str, str] | None = None
) -> dict[str, Any]:
    principal = signed_in(request, Permission.MEETING_NOMINATE)
    lang = lang_of(request)
    meeting_id = int(request.match_info["meeting_id"])
    async with request.app[DB_READ]() as session:
        meeting = await service.get_meeting(session, meeting_id)
        views = await ov.overview(session, principal, meeting_id)
    scope = project_scope(principal)
    own = [scope.city_code] if scope.kind == ScopeKind.CITY else [c.code for c in CITIES]
    return {
        "meeting": meeting,
        "views": views,
        "lang": lang,
        "local": format_local,
        "cities": [(c.code, c.name_en if lang == "en" else c.name_zh) for c in CITIES if c.code in own],
        "roles": [(r.value, m.in_lang(lang)) for r, m in ROLE_LABELS.items()],
        "role_label": {r.value: m.in_lang(lang) for r, m in ROLE_LABELS.items()},
        "error": error,
        "form": form
        or {
            "city_code": own[0] if own else "",
            "role": "expert",
            "username": "",
            "organisation": "",
            "name": "",
            "email": "",
        },
        "new_link": request.query.get("link", ""),
        "may_edit": allowed(principal, Permission.MEETING_WRITE),
        "edit": {
            "starts_at": format_local(meeting.starts_at).replace(" ", "T"),
            "ends_at": format_local(meeting.ends_at).replace(" ", "T"),
        },
    }


@routes.get(MEETING, name="meeting")
async def meeting_page(request: web.Request) -> web.StreamResponse:
    """Per city: nominated, tested (with the figures), not yet tested, attended; the nominate form."""
    return aiohttp_jinja2.render_template("meetings/meeting.html", request, await _meeting_context(request))


@routes.post(MEETING + "/nominate")
async def meeting_nominate(request: web.Request) -> web.StreamResponse:
    principal = signed_in(request, Permission.MEETING_NOMINATE)
    posted = await request.post()
    keys = ("city_code", "role", "username", "organisation", "name", "email")
    form = {k: str(posted.get(k, "")).strip() for k in keys}
    meeting_id = int(request.match_info["meeting_id"])
    try:
        fields = {k: v for k, v in form.items() if k not in ("city_code", "username")}
        body = parse_form(NominationCreate, fields, LABELS)
        async with request.app[DB]() as session, session.begin():
            user_id = None
            if form["username"]:
                user_id = await session.scalar(select(User.id).where(User.username == form["username"]))
                if user_id is None:
                    raise invalid("没有这个用户名的账号", "No account has this user name", field="username")
            nominee = service.Nominee(body.role, user_id, body.organisation, body.name, body.email)
            row = await service.nominate(
                session, principal, meeting_id, form["city_code"], nominee, now=request.app[CLOCK].now()
            )
    except DomainError as exc:
        context = await _meeting_context(request, exc.message.in_lang(lang_of(request)), form)
        return aiohttp_jinja2.render_template("meetings/meeting.html", request, context, status=exc.status)
    link = links.link_path(row, request.app[SECRET])
    raise web.HTTPSeeOther(f"/meetings/{meeting_id}?link={quote(link)}")


@routes.post(MEETING + "/edit")
async def meeting_edit(request: web.Request) -> web.StreamResponse:
    """The province changes the title, times or quota (the test and deadline follow the start)."""
    principal = signed_in(request, Permission.MEETING_WRITE)
    posted = await request.post()
    form = {k: str(posted.get(k, "")).strip() for k in ("title", "starts_at", "ends_at", "city_quota")}
    meeting_id = int(request.match_info["meeting_id"])
    try:
        body = parse_form(
            MeetingCreate,
            {
                "title": form["title"],
                "starts_at": _local(form["starts_at"], "starts_at"),
                "ends_at": _local(form["ends_at"], "ends_at"),
                "city_quota": form["city_quota"] or "12",
            },
            LABELS,
        )
        async with request.app[DB]() as session, session.begin():
            speakers = tuple(await service.speaker_ids(session, meeting_id))
            fields = service.MeetingFields(
                body.title, body.starts_at, body.ends_at, body.kind, body.city_quota, speaker_ids=speakers
            )
            await service.edit_meeting(session, principal, meeting_id, fields, now=request.app[CLOCK].now())
    except DomainError as exc:
        context = await _meeting_context(request, exc.message.in_lang(lang_of(request)))
        return aiohttp_jinja2.render_template("meetings/meeting.html", request, context, status=exc.status)
    raise web.HTTPSeeOther(f"/meetings/{meeting_id}")


@routes.post(MEETING + "/cancel")
async def meeting_cancel(request: web.Request) -> web.StreamResponse:
    principal = signed_in(request, Permission.MEETING_WRITE)
    meeting_id = int(request.match_info["meeting_id"])
    async with request.app[DB]() as session, session.begin():
        await service.cancel_meeting(session, principal, meeting_id, now=request.app[CLOCK].now())
    raise web.HTTPSeeOther(f"/meetings/{meeting_id}")


# -- the nominee's pages ------------------------------------------------------------------------


async def _open_in(session: AsyncSession, request: web.Request) -> tuple[Nomination, Meeting]:
    """The nomination and meeting of the request's personal link, read in ``session``."""
    app = request.app
    return await links.open_link(
        session,
        request.match_info["token"],
        app[SECRET],
        now=app[CLOCK].now(),
        grace_hours=app[SETTINGS].invitation_grace_hours,
    )


async def _opened(request: web.Request) -> tuple[Nomination, Meeting]:
    async with request.app[DB_READ]() as session:
        return await _open_in(session, request)


def _refused(request: web.Request, refused: InvitationRefused) -> web.StreamResponse:
    context = {"refusal": refused.reason.value, "message": refused.message.in_lang(lang_of(request))}
    return aiohttp_jinja2.render_template("meetings/landing.html", request, context, status=refused.status)


@routes.get(LINK, name="meeting_landing")
async def landing_page(request: web.Request) -> web.StreamResponse:
    """What, when, the signal test, and the button into the room."""
    try:
        nomination, meeting = await _opened(request)
    except InvitationRefused as refused:
        return _refused(request, refused)
    async with request.app[DB_READ]() as session:
        tested = await ov.has_tested(session, nomination.id)
    token = request.match_info["token"]
    context = {
        "refusal": "",
        "meeting": meeting,
        "nomination": nomination,
        "tested": tested,
        "local": format_local,
        "base": f"/m/{token}",
    }
    response = aiohttp_jinja2.render_template("meetings/landing.html", request, context)
    response.headers["Cache-Control"] = "no-store"
    return response


@routes.get(LINK + "/test", name="meeting_test")
async def test_page(request: web.Request) -> web.StreamResponse:
    """The signal test: the connectivity test page, its result stored for the meeting."""
    try:
        nomination, meeting = await _opened(request)
    except InvitationRefused as refused:
        return _refused(request, refused)
    when = f"{format_local(meeting.starts_at)}–{format_local(meeting.ends_at)[-5:]}"
    context = _page(
        request,
        f"/m/{request.match_info['token']}/test",
        f"{nomination.organisation} · {nomination.name}",
        when,
    )
    response = aiohttp_jinja2.render_template("rooms/check.html", request, context)
    response.headers["Cache-Control"] = "no-store"
    return response


@routes.get(LINK + "/test/ws", name="meeting_test_ws")
async def test_echo(request: web.Request) -> web.StreamResponse:
    await _opened(request)
    return await _echo(request)


@routes.post(LINK + "/test/result", name="meeting_test_result")
async def test_result(request: web.Request) -> web.Response:
    app = request.app

    async def store(measured: Measured) -> tuple[bool, int]:
        async with app[DB]() as session, session.begin():
            nomination, _ = await _open_in(session, request)
            row = await service.record_signal_test(session, nomination, measured, now=app[CLOCK].now())
            return row.passed, row.id

    return await _result(request, store)


@routes.post(LINK + "/room")
async def enter_room(request: web.Request) -> web.StreamResponse:
    """The join button: attendance starts now; then the room page."""
    app = request.app
    try:
        async with app[DB]() as session, session.begin():
            nomination, _ = await _open_in(session, request)
            await service.join(session, nomination, now=app[CLOCK].now())
    except InvitationRefused as refused:
        return _refused(request, refused)
    raise web.HTTPSeeOther(f"/m/{request.match_info['token']}/room")


@routes.post(LINK + "/leave")
async def leave_room(request: web.Request) -> web.StreamResponse:
    """The leave button: the stay ends now; back to the landing page."""
    app = request.app
    try:
        async with app[DB]() as session, session.begin():
            nomination, _ = await _open_in(session, request)
            await service.leave(session, nomination, now=app[CLOCK].now())
    except InvitationRefused as refused:
        return _refused(request, refused)
    raise web.HTTPSeeOther(f"/m/{request.match_info['token']}")


@routes.get(LINK + "/room", name="meeting_room")
async def room_page(request: web.Request) -> web.StreamResponse:
    """The meeting room as far as this branch goes: the shown questions and the form to ask one."""
    try:
        nomination, meeting = await _opened(request)
    except InvitationRefused as refused:
        return _refused(request, refused)
    async with request.app[DB_READ]() as session:
        shown = await qa.questions(session, meeting.id, qa.Viewer.ATTENDEE)
    context = {
        "meeting": meeting,
        "nomination": nomination,
        "questions": shown,
        "local": format_local,
        "base": f"/m/{request.match_info['token']}",
        "asked": request.query.get("asked", ""),
    }
    response = aiohttp_jinja2.render_template("meetings/room.html", request, context)
    response.headers["Cache-Control"] = "no-store"
    return response


@routes.post(LINK + "/ask")
async def ask(request: web.Request) -> web.StreamResponse:
    app = request.app
    posted = await request.post()
    try:
        async with app[DB]() as session, session.begin():
            nomination, _ = await _open_in(session, request)
            await qa.post(session, nomination, str(posted.get("text", "")), now=app[CLOCK].now())
    except InvitationRefused as refused:
        return _refused(request, refused)
    raise web.HTTPSeeOther(f"/m/{request.match_info['token']}/room?asked=1")
