"""The connectivity test page ("the day before"), its echo WebSocket and where its result goes.

A guest comes by their signed link (``/join/{token}/check``), a signed-in user for a session
they may see (``/sessions/{id}/check``). Under each address: ``/ws``, the signalling of the echo
peer (``media.echo``: one offer, one answer; the peer lives as long as the socket), and
``/result``, a POST of what the page measured (stored and audited by ``scheduler.connectivity``).

Signalling messages (JSON): browser ``{"type": "offer", "sdp": "..."}``; server
``{"type": "answer", "sdp": "..."}`` or ``{"type": "error", "message": "..."}``.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

import aiohttp_jinja2
from aiohttp import WSCloseCode, WSMsgType, web
from pydantic import BaseModel, ConfigDict, Field

from media.config import RoomConfig
from media.echo import EchoHost
from media.internals import include_loopback_candidates
from remote_check.accounts.access import Permission
from remote_check.clock import format_local
from remote_check.errors import DomainError, Forbidden, Message, invalid
from scheduler.connectivity import Measured, problems, record_guest_check, record_user_check
from scheduler.guests import Opened, open_invitation
from scheduler.invitations import InvitationRefused
from scheduler.models import CheckSession
from scheduler.rules import load_session
from web.context import lang_of
from web.inputs import read_body
from web.keys import CLOCK, DB, SECRET, SETTINGS
from web.middlewares import error_json
from web.pages.common import signed_in

log = logging.getLogger(__name__)

routes = web.RouteTableDef()

ECHOES = web.AppKey("echoes", EchoHost)
ECHO_SOCKETS = web.AppKey("echo_sockets", set[web.WebSocketResponse])
ECHO_SECONDS = 90.0  # an echo socket is closed after this long, whatever the page does
MAX_MESSAGE = 256 * 1024
GUEST = r"/join/{token:[0-9A-Za-z._-]{1,200}}/check"
STAFF = r"/sessions/{session_id:\d+}/check"


def setup(app: web.Application) -> None:
    """The app's echo peers, closed with their sockets on shutdown."""
    if app[SETTINGS].rooms_loopback_candidates:
        include_loopback_candidates()
    app[ECHOES] = EchoHost(RoomConfig.from_settings(app[SETTINGS]))
    app[ECHO_SOCKETS] = set()

    async def close_echoes(app: web.Application) -> None:
        await app[ECHOES].close()
        sockets: set[web.WebSocketResponse] = app[ECHO_SOCKETS]
        for ws in list(sockets):
            await ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown")

    app.on_shutdown.append(close_echoes)


class CheckResult(BaseModel):
    """What the page measured (figures over a few seconds of the round trip)."""

    model_config = ConfigDict(extra="forbid")
    camera_ok: bool
    microphone_ok: bool
    screen_ok: bool
    fps: float = Field(ge=0, le=240)
    bitrate_kbps: int = Field(ge=0, le=1_000_000)
    rtt_ms: int | None = Field(default=None, ge=0, le=60_000)
    user_agent: str = Field(default="", max_length=1000)


async def _opened(request: web.Request) -> Opened:
    """The guest's link, checked (and its opening audited) in a transaction of its own."""
    app = request.app
    async with app[DB]() as session, session.begin():
        return await open_invitation(
            session,
            request.match_info["token"],
            app[SECRET],
            now=app[CLOCK].now(),
            grace_hours=app[SETTINGS].invitation_grace_hours,
        )


async def _staff_session(request: web.Request) -> tuple[str, CheckSession]:
    """The signed-in user's name and the session (404 when out of their scope)."""
    principal = signed_in(request, Permission.SESSION_READ)
    async with request.app[DB]() as session:
        check, _ = await load_session(session, principal, int(request.match_info["session_id"]))
    return principal.display_name, check


def _page(request: web.Request, base: str, who: str, when: str) -> dict[str, Any]:
    config = RoomConfig.from_settings(request.app[SETTINGS])
    return {
        "refusal": "",
        "message": "",
        "who": who,
        "when": when,
        "base": base,
        "rtc": json.dumps(config.browser_configuration("check")),
    }


@routes.get(GUEST, name="guest_check")
async def guest_check_page(request: web.Request) -> web.StreamResponse:
    """A guest's connectivity test (public: the signed link is the credential)."""
    try:
        opened = await _opened(request)
    except InvitationRefused as refused:
        context = {"refusal": refused.reason.value, "message": refused.message.in_lang(lang_of(request))}
        return aiohttp_jinja2.render_template("rooms/check.html", request, context, status=refused.status)
    s = opened.session
    who = f"{opened.guest.organisation} · {opened.guest.name}"
    when = f"{format_local(s.starts_at)}–{format_local(s.ends_at)[-5:]}"
    context = _page(request, f"/join/{request.match_info['token']}/check", who, when)
    response = aiohttp_jinja2.render_template("rooms/check.html", request, context)
    response.headers["Cache-Control"] = "no-store"
    return response


@routes.get(STAFF, name="staff_check")
@aiohttp_jinja2.template("rooms/check.html")
async def staff_check_page(request: web.Request) -> dict[str, Any]:
    """A signed-in user's connectivity test for a session they may see."""
    who, check = await _staff_session(request)
    when = f"{format_local(check.starts_at)}–{format_local(check.ends_at)[-5:]}"
    return _page(request, f"/sessions/{check.id}/check", who, when)


def _same_origin(request: web.Request) -> None:
    origin = request.headers.get("Origin")
    if origin and urlsplit(origin).netloc != request.host:
        raise Forbidden(Message("跨站连接被拒绝", "Cross-site connection refused"))


async def _echo(request: web.Request) -> web.WebSocketResponse:
    """Answer one offer with an echo peer; close the peer with the socket (or after a while)."""
    _same_origin(request)
    lang = lang_of(request)
    ws = web.WebSocketResponse(heartbeat=20.0, max_msg_size=MAX_MESSAGE)
    await ws.prepare(request)
    sockets = request.app[ECHO_SOCKETS]
    sockets.add(ws)
    echoes = request.app[ECHOES]
    peer = None
    try:
        async with asyncio.timeout(ECHO_SECONDS):
            async for frame in ws:
                if frame.type != WSMsgType.TEXT:
                    break
                try:
                    sdp = _offer_sdp(frame.data)
                    if peer is not None:
                        raise invalid("已经开始测试", "The test is already running", field="type")
                    peer = await echoes.open()
                    try:
                        answer = await peer.answer(sdp)
                    except DomainError:
                        await echoes.release(peer)
                        peer = None
                        raise
                    await ws.send_json({"type": "answer", "sdp": answer})
                except DomainError as exc:
                    await ws.send_json({"type": "error", "message": exc.message.in_lang(lang)})
    except TimeoutError:
        pass
    except Exception:
        log.exception("connectivity echo failed")
    finally:
        if peer is not None:
            await asyncio.shield(echoes.release(peer))
        await ws.close()
        sockets.discard(ws)
    return ws


def _offer_sdp(raw: str) -> str:
    try:
        message = json.loads(raw)
    except ValueError:
        message = None
    if (
        not isinstance(message, dict)
        or message.get("type") != "offer"
        or not isinstance(message.get("sdp"), str)
    ):
        raise invalid("信令消息格式错误", "Malformed signalling message", field="message")
    sdp: str = message["sdp"]
    if not sdp or len(sdp) > 200_000:
        raise invalid("SDP 格式错误", "Malformed SDP", field="sdp")
    return sdp


@routes.get(GUEST + "/ws", name="guest_check_ws")
async def guest_echo(request: web.Request) -> web.StreamResponse:
    """The echo signalling of a guest's test."""
    await _opened(request)
    return await _echo(request)


@routes.get(STAFF + "/ws", name="staff_check_ws")
async def staff_echo(request: web.Request) -> web.StreamResponse:
    """The echo signalling of a signed-in user's test."""
    await _staff_session(request)
    return await _echo(request)


async def _result(
    request: web.Request, store: Callable[[Measured], Awaitable[tuple[bool, int]]]
) -> web.Response:
    """Check the posted figures, store them; the verdict and its reasons in the user's language."""
    lang = lang_of(request)
    try:
        try:
            body = await read_body(request, CheckResult, lang)
        except DomainError as exc:
            if exc.status != 422:
                raise
            raise invalid("测试结果格式错误", "Malformed test result", field="body") from None
        measured = Measured(**body.model_dump())
        passed, check_id = await store(measured)
    except DomainError as exc:
        return error_json(request, exc)
    return web.json_response(
        {"id": check_id, "passed": passed, "problems": [m.in_lang(lang) for m in problems(measured)]}
    )


@routes.post(GUEST + "/result", name="guest_check_result")
async def guest_result(request: web.Request) -> web.Response:
    """Store a guest's test result."""
    app = request.app

    async def store(measured: Measured) -> tuple[bool, int]:
        async with app[DB]() as session, session.begin():
            opened = await open_invitation(
                session,
                request.match_info["token"],
                app[SECRET],
                now=app[CLOCK].now(),
                grace_hours=app[SETTINGS].invitation_grace_hours,
            )
            row = await record_guest_check(
                session, opened.guest, opened.session, measured, now=app[CLOCK].now()
            )
            return row.passed, row.id

    return await _result(request, store)


@routes.post(STAFF + "/result", name="staff_check_result")
async def staff_result(request: web.Request) -> web.Response:
    """Store a signed-in user's test result."""
    principal = signed_in(request, Permission.SESSION_READ)
    app = request.app

    async def store(measured: Measured) -> tuple[bool, int]:
        async with app[DB]() as session, session.begin():
            row = await record_user_check(
                session, principal, int(request.match_info["session_id"]), measured, now=app[CLOCK].now()
            )
            return row.passed, row.id

    return await _result(request, store)
