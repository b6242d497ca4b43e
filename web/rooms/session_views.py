"""The room of a check session: its page and its signalling WebSocket, for staff (by their
log-in) and for guests (by their signed link). See :mod:`web.rooms.admission` for who enters
as what, :mod:`media.protocol` for the messages.

Joins, leaves, admissions, removals and "mute all" are recorded in the audit log, by the
endpoint, in tasks of their own (never on the media path).
"""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from media.events import RoomEvent
from media.moderation import RoomRole
from recordings.events import RecordingStarted, RecordingStopped
from recordings.models import PartState
from recordings.service import apply_event, parts_of
from remote_check.audit.service import Actor, record
from remote_check.errors import DomainError
from scheduler.access import may_mark
from scheduler.invitations import InvitationRefused
from scheduler.life import RoomClosed
from scheduler.lifecycle import room_emptied, room_entered
from scheduler.models import SessionStatus
from web.context import lang_of
from web.keys import CLOCK, DB, DB_READ, REPLAYS, ROOMS, SECRET, SETTINGS
from web.pages.common import signed_in
from web.rooms.admission import Admission, admit_guest, admit_staff, room_id
from web.rooms.signalling import Audit, Joined, same_origin, serve
from web.session_facts import room_window

routes = web.RouteTableDef()

TOKEN = r"{token:[0-9A-Za-z._-]{1,200}}"  # noqa: S105 - a route pattern

ROLE_LABELS = {
    RoomRole.HOST: ("主持人", "Host"),
    RoomRole.EXPERT: ("专家", "Expert"),
    RoomRole.ENTERPRISE: ("企业", "Enterprise"),
    RoomRole.SUPPLIER: ("服务商", "Supplier"),
    RoomRole.OBSERVER: ("观察员", "Observer"),
}


PRESENCE = web.AppKey("session_room_presence", dict[int, int])
"""How many connections each session's room has, by its join and leave events (this process
keeps the sockets): the last one out after the scheduled end completes the session."""


def setup(app: web.Application) -> None:
    app[PRESENCE] = {}


def _window_open(app: web.Application, admission: Admission) -> Admission:
    """The one check of the room's window (:class:`scheduler.life.Window`): refused outside it."""
    room_window(app).check(admission.session, app[CLOCK].now())
    return admission


async def _staff(request: web.Request) -> Admission:
    principal = signed_in(request)
    async with request.app[DB]() as session:
        admission = await admit_staff(session, principal, int(request.match_info["session_id"]))
    return _window_open(request.app, admission)


async def _guest(request: web.Request) -> Admission:
    app = request.app
    async with app[DB]() as session:
        admission = await admit_guest(
            session,
            request.match_info["token"],
            app[SECRET],
            now=app[CLOCK].now(),
            grace_hours=app[SETTINGS].invitation_grace_hours,
        )
    return _window_open(app, admission)


async def _enter(app: web.Application, admission: Admission) -> None:
    """Someone is entering the open room: the session is in progress (held: it can no longer be
    moved), committed before the WebSocket is accepted."""
    if admission.session.status not in (SessionStatus.BOOKED, SessionStatus.INTERRUPTED):
        return  # already under way: nothing to write
    async with app[DB]() as session, session.begin():
        await room_entered(session, admission.session.id, admission.actor, now=app[CLOCK].now())


async def _left(app: web.Application, session: AsyncSession, session_id: int) -> None:
    """Someone left: the last one out after the scheduled end completes the session."""
    presence = app[PRESENCE]
    if presence.get(session_id) == 0:
        presence.pop(session_id, None)
        await room_emptied(session, session_id, now=app[CLOCK].now())


def audit_details(event: RoomEvent) -> dict[str, str] | None:
    """What the audit entry of a room's event says besides its action (storage: strings)."""
    if isinstance(event, RecordingStarted):
        return {"folder": event.folder, "part": str(event.part)}
    if isinstance(event, RecordingStopped):
        return {"manifest_sha256": event.manifest_sha256} if event.manifest_sha256 else None
    if not event.subject:
        return None
    # a recording's pause and resume name the part's folder; everything else, a person
    return {"folder" if event.action.startswith("recording.") else "person": event.subject}


def _auditor(app: web.Application, admission: Admission) -> Audit:
    check = admission.session
    actor: Actor = admission.actor

    async def audit(event: RoomEvent) -> None:
        action = event.action
        if action in ("room.join", "room.leave"):  # counted before any wait: in the order they happen
            presence = app[PRESENCE]
            presence[check.id] = presence.get(check.id, 0) + (1 if action == "room.join" else -1)
        now = app[CLOCK].now()
        async with app[DB]() as session, session.begin():
            if action == "room.leave":
                await _left(app, session, check.id)
            if isinstance(event, RecordingStarted | RecordingStopped):
                await apply_event(session, check.id, event, now=now)  # the recording's parts
            await record(
                session,
                actor,
                action,
                f"session:{check.id}",
                at=now,
                city_code=check.city_code,
                details=audit_details(event),
            )
        if isinstance(event, RecordingStopped):
            app[REPLAYS].wake()  # the stop may have queued the replay's render (now committed)

    return audit


def _continuer(app: web.Application, session_id: int) -> Joined:
    """After a join: when the server failed while recording (the last part is interrupted), the
    call goes on and so does the recording, in a new part."""

    async def continue_if_cut() -> RecordingStarted | None:
        async with app[DB_READ]() as session:
            parts = await parts_of(session, session_id)
        if not parts or parts[-1].state != PartState.INTERRUPTED:
            return None
        return await app[ROOMS].continue_recording(room_id(session_id))

    return continue_if_cut


def _page(
    request: web.Request, admission: Admission, socket: str, back: str, *, marking: bool = False
) -> web.StreamResponse:
    lang = lang_of(request)
    entrant = admission.entrant
    zh, en = ROLE_LABELS[entrant.role]
    context: dict[str, Any] = {
        "session": admission.session,
        "socket": socket,
        "back": back,
        "name": entrant.name,
        "role": entrant.role.value,
        "role_label": en if lang == "en" else zh,
        "marking": marking,  # the checklist beside the video, for the panel's experts
    }
    response = aiohttp_jinja2.render_template("rooms/room.html", request, context)
    response.headers["Cache-Control"] = "no-store"
    return response


def _refused(request: web.Request, refused: DomainError) -> web.StreamResponse:
    reason = refused.reason.value if isinstance(refused, InvitationRefused) else refused.code
    context = {"refusal": reason, "message": refused.message.in_lang(lang_of(request)), "o": None}
    return aiohttp_jinja2.render_template("join.html", request, context, status=refused.status)


@routes.get(r"/sessions/{session_id:\d+}/room", name="session_room")
async def staff_room_page(request: web.Request) -> web.StreamResponse:
    """The session's room for a signed-in user (host, expert or observer)."""
    admission = await _staff(request)
    check = admission.session
    async with request.app[DB]() as session:
        marking = await may_mark(session, signed_in(request), check.project_id)
    sid = check.id
    return _page(request, admission, f"/sessions/{sid}/room/ws", f"/sessions/{sid}", marking=marking)


@routes.get(r"/sessions/{session_id:\d+}/room/ws", name="session_room_ws")
async def staff_room_socket(request: web.Request) -> web.WebSocketResponse:
    """The signalling WebSocket of the session's room, for a signed-in user."""
    same_origin(request)
    admission = await _staff(request)
    await _enter(request.app, admission)
    audit = _auditor(request.app, admission)
    sid = admission.session.id
    joined = _continuer(request.app, sid)
    return await serve(request, room_id(sid), lang_of(request), admission.entrant, audit, joined)


@routes.get(f"/join/{TOKEN}/room", name="guest_room")
async def guest_room_page(request: web.Request) -> web.StreamResponse:
    """The session's room for the holder of a guest link."""
    token = request.match_info["token"]
    try:
        admission = await _guest(request)
    except (InvitationRefused, RoomClosed) as refused:
        return _refused(request, refused)
    return _page(request, admission, f"/join/{token}/ws", f"/join/{token}")


@routes.get(f"/join/{TOKEN}/ws", name="guest_room_ws")
async def guest_room_socket(request: web.Request) -> web.WebSocketResponse:
    """The signalling WebSocket of the session's room, for the holder of a guest link; a
    refused link is refused at the handshake with its status (403, 410)."""
    same_origin(request)
    admission = await _guest(request)
    await _enter(request.app, admission)
    audit = _auditor(request.app, admission)
    sid = admission.session.id
    joined = _continuer(request.app, sid)
    return await serve(request, room_id(sid), lang_of(request), admission.entrant, audit, joined)
