"""Check sessions: booking, listing, cancelling, moving, guests and their links; experts."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from remote_check.accounts.access import Permission
from scheduler.guests import NewGuest, add_guest, renew_link, revoke_guest, view_link
from scheduler.life import opens_at
from scheduler.lifecycle import complete_session, mark_no_show, open_room
from scheduler.models import CheckSession, Guest
from scheduler.queries import (
    PAGE_SIZE,
    SessionDetail,
    SessionFilter,
    experts_with_conflicts,
    list_sessions,
    session_detail,
)
from scheduler.schemas import (
    ExpertList,
    ExpertOut,
    ExpertQuery,
    GuestCreate,
    GuestOut,
    PanelSeatOut,
    PartyOut,
    SessionCancel,
    SessionCreate,
    SessionEnd,
    SessionList,
    SessionMove,
    SessionOut,
    SessionQuery,
    SessionSummary,
)
from scheduler.service import NewSession, cancel_session, move_session
from scheduler.service import book as book_in_full
from web.api.openapi import ClashResponse
from web.api.registry import Api, Call
from web.keys import CLOCK
from web.session_facts import guest_link, phase_now, room_window

api = Api("sessions")

SESSION = r"/api/sessions/{session_id:\d+}"
GUEST = SESSION + r"/guests/{guest_id:\d+}"

GuestAction = Callable[..., Awaitable[tuple[Guest, CheckSession]]]


def guest_out(request: web.Request, guest: Guest, check: CheckSession, *, with_link: bool) -> GuestOut:
    """A guest as JSON, with their current link if asked and not revoked."""
    link = guest_link(request, guest, check) if with_link and not guest.revoked else None
    return GuestOut(
        id=guest.id,
        kind=guest.kind,
        organisation=guest.organisation,
        name=guest.name,
        email=guest.email,
        phone=guest.phone,
        revoked=guest.revoked,
        link=link.href if link else None,
        link_expires_at=link.expires_at if link else None,
    )


def session_out(request: web.Request, detail: SessionDetail) -> SessionOut:
    """A session as JSON. Guests come without their links: a link (a bearer credential) is shown
    only in the answer to invite and renew, and by the audited "show link" call."""
    check, parties = detail.session, detail.parties
    return SessionOut(
        id=check.id,
        project_id=check.project_id,
        project_code=parties.project.code,
        city_code=check.city_code,
        starts_at=check.starts_at,
        ends_at=check.ends_at,
        status=check.status,
        phase=phase_now(request.app, check),
        opens_at=opens_at(check, room_window(request.app).opens_before),
        started_at=check.started_at,
        ended_at=check.ended_at,
        enterprise=PartyOut(
            id=parties.enterprise.id, name=parties.enterprise.name, credit_code=parties.enterprise.credit_code
        ),
        supplier=PartyOut(
            id=parties.supplier.id, name=parties.supplier.name, credit_code=parties.supplier.credit_code
        ),
        panel=[
            PanelSeatOut(expert_id=e.id, name=e.name, employer=e.employer, role=seat.role)
            for seat, e in detail.panel
        ],
        host_user_id=check.host_user_id,
        resources=detail.resources,
        guests=[guest_out(request, g, check, with_link=False) for g in detail.guests],
    )


@api.get(
    "/api/sessions", summary="List check sessions in the caller's scope", permission=Permission.SESSION_READ
)
async def sessions(call: Call, query: SessionQuery) -> SessionList:
    f = SessionFilter(**query.model_dump(exclude={"page"}))
    async with call.read() as session:
        rows, total = await list_sessions(session, call.user, f, page=query.page)
    return SessionList(
        items=[
            SessionSummary(
                id=r.session.id,
                project_id=r.session.project_id,
                project_code=r.project_code,
                city_code=r.session.city_code,
                starts_at=r.session.starts_at,
                ends_at=r.session.ends_at,
                status=r.session.status,
                phase=phase_now(call.request.app, r.session),
                enterprise_name=r.enterprise_name,
                supplier_name=r.supplier_name,
            )
            for r in rows
        ],
        total=total,
        page=query.page,
        page_size=PAGE_SIZE,
    )


@api.post(
    "/api/sessions",
    summary="Book a check session (refused with 409 naming every clash and offering the nearest free times)",
    permission=Permission.SESSION_WRITE,
    status=201,
    conflict=ClashResponse,
)
async def book(call: Call, body: SessionCreate) -> SessionOut:
    principal = call.user
    new = NewSession(
        body.project_id, body.starts_at, body.ends_at, body.panel, body.host_user_id, body.confirm_off_hours
    )
    async with call.transaction() as session:
        booked = await book_in_full(session, principal, new, now=call.request.app[CLOCK].now())
        # the answer from what the booking has in hand (a new session has no guests yet)
        detail = SessionDetail(booked.check, booked.parties, booked.panel, [], booked.resources)
    return session_out(call.request, detail)


@api.get(SESSION, summary="One check session with its panel and guests", permission=Permission.SESSION_READ)
async def one_session(call: Call) -> SessionOut:
    async with call.read() as session:
        detail = await session_detail(session, call.user, call.path_int("session_id"))
        return session_out(call.request, detail)


@api.post(
    SESSION + "/cancel", summary="Cancel a session and free its bookings", permission=Permission.SESSION_WRITE
)
async def cancel(call: Call, body: SessionCancel) -> SessionOut:
    principal = call.user
    async with call.transaction() as session:
        check = await cancel_session(
            session,
            principal,
            call.path_int("session_id"),
            now=call.request.app[CLOCK].now(),
            reason=body.reason,
        )
        return session_out(call.request, await session_detail(session, principal, check.id))


@api.post(
    SESSION + "/move",
    summary="Reschedule a session not yet held: a new time and panel, atomically (guests' links follow)",
    permission=Permission.SESSION_WRITE,
    conflict=ClashResponse,
)
async def move(call: Call, body: SessionMove) -> SessionOut:
    principal = call.user
    async with call.transaction() as session:
        check = await move_session(
            session,
            principal,
            call.path_int("session_id"),
            body.starts_at,
            body.ends_at,
            now=call.request.app[CLOCK].now(),
            panel=body.panel,
            confirmed_off_hours=body.confirm_off_hours,
        )
        return session_out(call.request, await session_detail(session, principal, check.id))


SessionStep = Callable[..., Awaitable[CheckSession]]


async def _step(call: Call, step: SessionStep, **kw: str) -> SessionOut:
    principal = call.user
    async with call.transaction() as session:
        check = await step(
            session, principal, call.path_int("session_id"), now=call.request.app[CLOCK].now(), **kw
        )
        return session_out(call.request, await session_detail(session, principal, check.id))


@api.post(
    SESSION + "/open",
    summary="Open the session's room before its window (the host)",
    permission=Permission.SESSION_WRITE,
)
async def open_early(call: Call) -> SessionOut:
    return await _step(call, open_room)


@api.post(
    SESSION + "/complete",
    summary="Record that the session is completed (the host)",
    permission=Permission.SESSION_WRITE,
)
async def complete(call: Call) -> SessionOut:
    return await _step(call, complete_session)


@api.post(
    SESSION + "/no-show",
    summary="Record, after the start, that the enterprise or supplier did not come (the host)",
    permission=Permission.SESSION_WRITE,
)
async def no_show(call: Call, body: SessionEnd) -> SessionOut:
    return await _step(call, mark_no_show, reason=body.reason)


@api.post(
    SESSION + "/guests",
    summary="Invite a guest; the answer carries the signed join link",
    permission=Permission.SESSION_WRITE,
    status=201,
)
async def invite(call: Call, body: GuestCreate) -> GuestOut:
    async with call.transaction() as session:
        guest, check = await add_guest(
            session,
            call.user,
            call.path_int("session_id"),
            NewGuest(body.kind, body.name, body.organisation, body.email, body.phone),
            now=call.request.app[CLOCK].now(),
        )
        return guest_out(call.request, guest, check, with_link=True)


async def _guest_action(call: Call, act: GuestAction, *, with_link: bool) -> GuestOut:
    """Run one action on a guest of the session in the path, in the view's one transaction."""
    async with call.transaction() as session:
        guest, check = await act(
            session,
            call.user,
            call.path_int("session_id"),
            call.path_int("guest_id"),
            now=call.request.app[CLOCK].now(),
        )
        return guest_out(call.request, guest, check, with_link=with_link)


@api.post(GUEST + "/revoke", summary="Withdraw a guest's invitation", permission=Permission.SESSION_WRITE)
async def revoke(call: Call) -> GuestOut:
    return await _guest_action(call, revoke_guest, with_link=False)


@api.post(
    GUEST + "/renew",
    summary="Give a guest a new link; older links stop working",
    permission=Permission.SESSION_WRITE,
)
async def renew(call: Call) -> GuestOut:
    return await _guest_action(call, renew_link, with_link=True)


@api.post(
    GUEST + "/link",
    summary="Show a guest's current join link again (audited as guest.link_view)",
    permission=Permission.SESSION_WRITE,
)
async def show_link(call: Call) -> GuestOut:
    return await _guest_action(call, view_link, with_link=True)


@api.get(
    "/api/experts",
    summary="Experts, optionally by conflict of interest with a project",
    permission=Permission.EXPERT_READ,
)
async def experts(call: Call, query: ExpertQuery) -> ExpertList:
    async with call.read() as session:
        rows = await experts_with_conflicts(
            session,
            call.user,
            project_id=query.conflicts_with_project,
            city_code=query.city_code,
            active=query.active,
        )
    if query.conflicts_with_project is not None and query.conflict != "all":
        wanted = query.conflict == "only"
        rows = [(e, reasons) for e, reasons in rows if bool(reasons) == wanted]
    return ExpertList(
        items=[
            ExpertOut(
                id=e.id,
                name=e.name,
                employer=e.employer,
                speciality=e.speciality,
                home_city_code=e.home_city_code,
                active=e.active,
                conflicts=reasons,
            )
            for e, reasons in rows
        ]
    )
