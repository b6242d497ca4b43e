"""Check-session pages: the list, one session (its phase, panel, guests, links with QR codes, the
steps of its life), and the public landing page of a guest's invitation link. The booking and
rescheduling forms are in :mod:`web.pages.booking`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

import aiohttp_jinja2
import segno
from aiohttp import web
from pydantic import ValidationError

from remote_check.accounts.access import Permission, Principal, allowed
from remote_check.clock import format_local
from remote_check.errors import Message, invalid
from remote_check.programme.cities import BY_CODE
from scheduler.access import sees_project
from scheduler.connectivity import latest_checks
from scheduler.guests import NewGuest, add_guest, open_invitation, renew_link, revoke_guest, view_link
from scheduler.invitations import InvitationRefused
from scheduler.life import LABELS as PHASE_LABELS
from scheduler.life import OVER, Phase, can_move, opens_at, phase
from scheduler.lifecycle import complete_session, is_host, mark_no_show, open_room
from scheduler.models import CheckSession, GuestKind, SessionStatus
from scheduler.queries import PAGE_SIZE, SessionFilter, list_sessions, session_detail
from scheduler.schemas import SessionQuery
from scheduler.service import cancel_session
from web.context import lang_of
from web.inputs import validation_error
from web.keys import CLOCK, DB, SECRET, SETTINGS
from web.pages.common import signed_in
from web.session_facts import guest_link, phase_now, room_window

routes = web.RouteTableDef()

KIND_LABELS: dict[GuestKind, Message] = {
    GuestKind.ENTERPRISE: Message("企业", "Enterprise"),
    GuestKind.SUPPLIER: Message("服务商", "Supplier"),
    GuestKind.OBSERVER: Message("观察员", "Observer"),
}
FILTER_KEYS = ("status", "date_from", "date_to", "city_code", "page")


def _labels(request: web.Request) -> dict[str, Any]:
    """The labels of kinds of guest, and of each session's phase at the app's present time."""
    lang = lang_of(request)
    return {
        "phase_label": {s.value: m.in_lang(lang) for s, m in PHASE_LABELS.items()},
        "kind_label": {k.value: m.in_lang(lang) for k, m in KIND_LABELS.items()},
        "phase_of": lambda check: phase_now(request.app, check).value,
    }


def _city(code: str, lang: str) -> str:
    city = BY_CODE.get(code)
    return "" if city is None else (city.name_en if lang == "en" else city.name_zh)


def qr_svg(link: str) -> str:
    """The link as a QR code, an inline SVG element (no external request, no script)."""
    return str(segno.make(link, error="m").svg_inline(scale=3, dark="#1f2933"))


@routes.get("/sessions", name="sessions")
@aiohttp_jinja2.template("sessions.html")
async def sessions_page(request: web.Request) -> dict[str, Any]:
    """The sessions of the projects the user may see, soonest first."""
    principal = signed_in(request, Permission.SESSION_READ)
    lang = lang_of(request)
    raw = {k: v for k, v in request.query.items() if k in FILTER_KEYS and v}
    try:
        query = SessionQuery.model_validate(raw)
    except ValidationError as exc:
        raise validation_error(exc, lang) from None
    async with request.app[DB]() as session:
        rows, total = await list_sessions(
            session, principal, SessionFilter(**query.model_dump(exclude={"page"})), page=query.page
        )
    filters = {k: v for k, v in raw.items() if k != "page"}
    pages = max(1, -(-total // PAGE_SIZE))
    return {
        **_labels(request),
        "rows": rows,
        "total": total,
        "query": query,
        "statuses": [(s.value, PHASE_LABELS[Phase(s.value)].in_lang(lang)) for s in SessionStatus],
        "city": lambda code: _city(code, lang),
        "can_book": allowed(principal, Permission.SESSION_WRITE),
        "prev_url": "/sessions?" + urlencode({**filters, "page": query.page - 1}) if query.page > 1 else "",
        "next_url": "/sessions?" + urlencode({**filters, "page": query.page + 1})
        if query.page < pages
        else "",
    }


async def _session_context(
    request: web.Request, principal: Principal, session_id: int, shown: int | None = None
) -> dict[str, Any]:
    """One session's page; the link and QR code of guest ``shown`` only (just issued or asked for)."""
    lang = lang_of(request)
    async with request.app[DB]() as session:
        detail = await session_detail(session, principal, session_id)
        latest = await latest_checks(session, detail.session.id)
        # the panel of a cancelled session sees it, but no longer its project
        project_visible = await sees_project(session, principal, detail.session.project_id)
    check = detail.session
    manage = allowed(principal, Permission.SESSION_WRITE)
    guests = []
    for guest in detail.guests:
        entry: dict[str, Any] = {"guest": guest, "link": "", "qr": "", "expires": "", "can_show": False}
        if manage and not guest.revoked and check.status not in OVER:
            entry["can_show"] = True
            if guest.id == shown:
                link = guest_link(request, guest, detail.session)
                entry.update(link=link.href, qr=qr_svg(link.href), expires=format_local(link.expires_at))
        guests.append(entry)
    now, window = request.app[CLOCK].now(), room_window(request.app)
    current = phase(check, now, window.opens_before)
    hosting = manage and is_host(principal, check)
    return {
        **_labels(request),
        "d": detail,
        "s": check,
        "p": detail.parties,
        "phase": current.value,
        "opens": format_local(opens_at(check, window.opens_before)),
        "city": _city(check.city_code, lang),
        "guests": guests,
        "manage": manage and check.status == SessionStatus.BOOKED,  # move, cancel
        "invite": manage and check.status not in OVER,
        "can_open": hosting and current == Phase.BOOKED,
        "can_complete": hosting and check.status in (SessionStatus.IN_PROGRESS, SessionStatus.INTERRUPTED),
        "can_no_show": hosting and now >= check.starts_at and can_move(check.status, SessionStatus.NO_SHOW),
        "room_open": current in (Phase.OPEN, Phase.IN_PROGRESS, Phase.INTERRUPTED),
        "project_visible": project_visible,
        "kinds": [(k.value, m.in_lang(lang)) for k, m in KIND_LABELS.items()],
        "checks": latest,
    }


@routes.get(r"/sessions/{session_id:\d+}", name="session")
@aiohttp_jinja2.template("session.html")
async def session_page(request: web.Request) -> dict[str, Any]:
    """One session: facts, panel, guests (links are not shown here: see :func:`_with_link`)."""
    principal = signed_in(request, Permission.SESSION_READ)
    return await _session_context(request, principal, int(request.match_info["session_id"]))


async def _with_link(
    request: web.Request, principal: Principal, session_id: int, guest_id: int
) -> web.Response:
    """The session page answering a POST, with one guest's link and QR code: shown once, not cached.

    Reloading the address (or switching language) goes back to the page without links.
    """
    context = await _session_context(request, principal, session_id, shown=guest_id)
    response = aiohttp_jinja2.render_template("session.html", request, context)
    response.headers["Cache-Control"] = "no-store"
    return response


def _back(session_id: int) -> web.HTTPSeeOther:
    return web.HTTPSeeOther(f"/sessions/{session_id}")


LIFE_STEPS: dict[str, Callable[..., Awaitable[CheckSession]]] = {
    "cancel": cancel_session,
    "open": open_room,
    "complete": complete_session,
    "no-show": mark_no_show,
}


@routes.post(r"/sessions/{session_id:\d+}/{step:(cancel|open|complete|no-show)}")
async def life_submit(request: web.Request) -> web.StreamResponse:
    """A step of the session's life from its page (or the room's, for "complete"): cancel, open the
    room early, completed, no-show."""
    principal = signed_in(request, Permission.SESSION_WRITE)
    session_id, step = int(request.match_info["session_id"]), request.match_info["step"]
    form = await request.post()
    extra = {"reason": str(form.get("reason", ""))[:500]} if step in ("cancel", "no-show") else {}
    async with request.app[DB]() as session, session.begin():
        await LIFE_STEPS[step](session, principal, session_id, now=request.app[CLOCK].now(), **extra)
    raise _back(session_id)


@routes.post(r"/sessions/{session_id:\d+}/guests")
async def guest_submit(request: web.Request) -> web.StreamResponse:
    """Invite a guest from the session page; the answer shows the new guest's link once."""
    principal = signed_in(request, Permission.SESSION_WRITE)
    session_id = int(request.match_info["session_id"])
    form = await request.post()
    try:
        kind = GuestKind(str(form.get("kind", "")))
    except ValueError:
        raise invalid("请选择嘉宾类型", "Choose the kind of guest", field="kind") from None
    new = NewGuest(
        kind,
        str(form.get("name", ""))[:100],
        str(form.get("organisation", ""))[:200],
        str(form.get("email", ""))[:200],
        str(form.get("phone", ""))[:32],
    )
    async with request.app[DB]() as session, session.begin():
        guest, _ = await add_guest(session, principal, session_id, new, now=request.app[CLOCK].now())
    return await _with_link(request, principal, session_id, guest.id)


GUEST_ACTION = r"/sessions/{session_id:\d+}/guests/{guest_id:\d+}/{action:(revoke|renew|link)}"


@routes.post(GUEST_ACTION)
async def guest_action(request: web.Request) -> web.StreamResponse:
    """Revoke a guest's link, issue a new one (shown once), or show the current one (audited)."""
    principal = signed_in(request, Permission.SESSION_WRITE)
    session_id, guest_id = int(request.match_info["session_id"]), int(request.match_info["guest_id"])
    action = request.match_info["action"]
    change = {"revoke": revoke_guest, "renew": renew_link, "link": view_link}[action]
    async with request.app[DB]() as session, session.begin():
        await change(session, principal, session_id, guest_id, now=request.app[CLOCK].now())
    if action == "revoke":
        raise _back(session_id)
    return await _with_link(request, principal, session_id, guest_id)


@routes.get(r"/sessions/{session_id:\d+}/guests")
@routes.get(GUEST_ACTION)
async def guest_form_address(request: web.Request) -> web.StreamResponse:
    """The session page (where a page answering a guest form reloads or switches language)."""
    signed_in(request, Permission.SESSION_READ)
    lang = request.query.get("lang")
    query = f"?{urlencode({'lang': lang})}" if lang else ""
    raise web.HTTPSeeOther(f"/sessions/{request.match_info['session_id']}{query}")


async def _join(request: web.Request, session_id: int | None) -> web.StreamResponse:
    lang = lang_of(request)
    app = request.app
    try:
        async with app[DB]() as session, session.begin():
            opened = await open_invitation(
                session,
                request.match_info["token"],
                app[SECRET],
                now=app[CLOCK].now(),
                grace_hours=app[SETTINGS].invitation_grace_hours,
                session_id=session_id,
            )
    except InvitationRefused as refused:
        context: dict[str, Any] = {
            "refusal": refused.reason.value,
            "message": refused.message.in_lang(lang),
            "o": None,
        }
        return aiohttp_jinja2.render_template("join.html", request, context, status=refused.status)
    s = opened.session
    context = {
        "refusal": "",
        "o": opened,
        "kind_label": KIND_LABELS[opened.guest.kind].in_lang(lang),
        "city": _city(s.city_code, lang),
        "when": f"{format_local(s.starts_at)}–{format_local(s.ends_at)[-5:]}",
        "opens": format_local(opens_at(s, room_window(app).opens_before)),
    }
    response = aiohttp_jinja2.render_template("join.html", request, context)
    response.headers["Cache-Control"] = "no-store"
    return response


@routes.get(r"/join/{token}", name="join")
async def join_page(request: web.Request) -> web.StreamResponse:
    """A guest's landing page (public: the signed link is the credential)."""
    return await _join(request, None)


@routes.get(r"/sessions/{session_id:\d+}/join/{token}", name="session_join")
async def session_join_page(request: web.Request) -> web.StreamResponse:
    """The same, on a session's own address: a link of another session is refused as foreign."""
    return await _join(request, int(request.match_info["session_id"]))
