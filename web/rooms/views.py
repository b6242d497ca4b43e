"""The room's WebSocket and its development page.

DEVELOPMENT ROUTES: ``/rooms/{room_id}/ws`` and ``/rooms/{room_id}/dev`` check no identity.
They exist only when the setting ``rooms_dev_routes`` is true (tests, local trials) and answer
404 otherwise. The moderated, authenticated room of a check session reuses the same
:class:`~web.rooms.host.RoomHost`.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from urllib.parse import urlsplit

import aiohttp_jinja2
from aiohttp import WSCloseCode, WSMsgType, web

from remote_check.errors import DomainError, Forbidden, Message, NotFound, invalid
from web.context import lang_of
from web.keys import ROOMS, SETTINGS
from web.rooms import protocol
from web.rooms.config import RoomConfig
from web.rooms.host import LocalRoomHost
from web.rooms.internals import include_loopback_candidates
from web.rooms.protocol import JoinMessage, LeaveMessage, OfferMessage

log = logging.getLogger(__name__)

routes = web.RouteTableDef()

ROOM = r"{room_id:[A-Za-z0-9_-]{1,64}}"
MAX_MESSAGE = 256 * 1024
HEARTBEAT = 20.0


SOCKETS = web.AppKey("room_sockets", set[web.WebSocketResponse])
"""The open signalling sockets, closed on shutdown."""


def setup(app: web.Application) -> None:
    """Give the app its room host, and end every call when the app shuts down."""
    settings = app[SETTINGS]
    if settings.rooms_loopback_candidates:
        include_loopback_candidates()
    app[ROOMS] = LocalRoomHost(RoomConfig.from_settings(settings))
    app[SOCKETS] = set()

    async def close_rooms(app: web.Application) -> None:
        # End the calls first, then the sockets: open sockets would hold the shutdown until
        # its timeout, and their handlers may be cancelled before they have left their rooms.
        await app[ROOMS].close()
        sockets: set[web.WebSocketResponse] = app[SOCKETS]
        for ws in list(sockets):
            await ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown")

    app.on_shutdown.append(close_rooms)


def _dev_only(request: web.Request) -> None:
    if not request.app[SETTINGS].rooms_dev_routes:
        raise NotFound("页面", "Page")


def _same_origin(request: web.Request) -> None:
    origin = request.headers.get("Origin")
    if origin and urlsplit(origin).netloc != request.host:
        raise Forbidden(Message("跨站连接被拒绝", "Cross-site connection refused"))


@routes.get(f"/rooms/{ROOM}/dev", name="room_dev")
@aiohttp_jinja2.template("rooms/dev.html")
async def room_dev_page(request: web.Request) -> dict[str, Any]:
    """DEVELOPMENT: join a room with camera and microphone, without signing in."""
    _dev_only(request)
    return {"room_id": request.match_info["room_id"]}


@routes.get(f"/rooms/{ROOM}/ws", name="room_ws")
async def room_socket(request: web.Request) -> web.WebSocketResponse:
    """DEVELOPMENT: the signalling WebSocket of a room (see ``web.rooms.protocol``)."""
    _dev_only(request)
    _same_origin(request)
    room_id = request.match_info["room_id"]
    host = request.app[ROOMS]
    lang = lang_of(request)
    ws = web.WebSocketResponse(heartbeat=HEARTBEAT, max_msg_size=MAX_MESSAGE)
    await ws.prepare(request)
    sockets = request.app[SOCKETS]
    sockets.add(ws)
    outbox: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
    writer = asyncio.create_task(_write(ws, outbox))
    participant_id: str | None = None
    try:
        async for frame in ws:
            if frame.type != WSMsgType.TEXT:
                break
            try:
                message = protocol.parse_client_message(frame.data)
                if isinstance(message, LeaveMessage):
                    break
                if isinstance(message, JoinMessage):
                    if participant_id is not None:
                        raise invalid("已经加入会议", "Already in the room", field="type")
                    participant_id = await host.join(room_id, message.name, outbox.put_nowait)
                elif isinstance(message, OfferMessage):
                    if participant_id is None:
                        raise invalid("请先加入会议", "Join the room first", field="type")
                    await host.signal(room_id, participant_id, message)
            except DomainError as exc:
                outbox.put_nowait(protocol.error(exc, lang))
    except Exception:
        log.exception("room %s: signalling failed", room_id)
    finally:
        if participant_id is not None:
            # even when the handler is cancelled, the participant leaves the room
            await asyncio.shield(host.leave(room_id, participant_id))
        outbox.put_nowait(None)
        await writer
        await ws.close()
        sockets.discard(ws)
    return ws


async def _write(ws: web.WebSocketResponse, outbox: asyncio.Queue[dict[str, Any] | None]) -> None:
    while (message := await outbox.get()) is not None:
        if ws.closed:
            continue
        try:
            await ws.send_json(message)
        except ConnectionError:
            continue
