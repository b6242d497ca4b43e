"""The room's WebSocket and its development page.

DEVELOPMENT ROUTES: ``/rooms/{room_id}/ws`` and ``/rooms/{room_id}/dev`` check no identity.
They exist only when the setting ``rooms_dev_routes`` is true (tests, local trials) and answer
404 otherwise. The moderated, authenticated room of a check session reuses the same
:class:`~media.host.RoomHost` (the app's, started and stopped by ``web.app``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from remote_check.errors import NotFound
from web.context import lang_of
from web.keys import SETTINGS
from web.rooms.rates import PeopleLimits
from web.rooms.signalling import (
    PENDING_AUDITS,
    SIGNAL_LIMITS,
    SOCKETS,
    OpenSockets,
    same_origin,
    serve,
)

routes = web.RouteTableDef()

SOCKETS_CLOSE_SECONDS = 10.0
log = logging.getLogger(__name__)

ROOM = r"{room_id:[A-Za-z0-9_-]{1,64}}"


def setup(app: web.Application) -> None:
    """The rooms' sockets: closed when the app shuts down (the room host's calls end after, see
    ``web.app``), and their audit entries written before the database closes."""
    app[SOCKETS] = OpenSockets()
    app[PENDING_AUDITS] = set()
    app[SIGNAL_LIMITS] = PeopleLimits(time.monotonic)
    # added after the database's and the room host's: it ends before they do
    app.cleanup_ctx.append(_finish_audits)
    app.on_shutdown.append(_close_sockets)


async def _close_sockets(app: web.Application) -> None:
    # Long-lived connections close on shutdown: the sockets close and their handlers leave their
    # rooms, so the events of a call's end (a recording's stop) are reported while the room host
    # still runs; the host ends whatever calls are left when the app's cleanup stops it.
    try:
        async with asyncio.timeout(SOCKETS_CLOSE_SECONDS):
            await app[SOCKETS].close_all()
    except TimeoutError:
        log.warning(
            "room sockets still open after %s s; their calls end with the host", SOCKETS_CLOSE_SECONDS
        )


async def _finish_audits(app: web.Application) -> AsyncIterator[None]:
    yield
    # a call's last events (a leave, a recording's stop) are written before the database closes
    pending = app[PENDING_AUDITS]
    while pending:
        await asyncio.gather(*pending, return_exceptions=True)


def _dev_only(request: web.Request) -> None:
    if not request.app[SETTINGS].rooms_dev_routes:
        raise NotFound("页面", "Page")


@routes.get(f"/rooms/{ROOM}/dev", name="room_dev")
@aiohttp_jinja2.template("rooms/dev.html")
async def room_dev_page(request: web.Request) -> dict[str, Any]:
    """DEVELOPMENT: join a room with camera and microphone, without signing in."""
    _dev_only(request)
    return {"room_id": request.match_info["room_id"]}


@routes.get(f"/rooms/{ROOM}/ws", name="room_ws")
async def room_socket(request: web.Request) -> web.WebSocketResponse:
    """DEVELOPMENT: the signalling WebSocket of a room (see ``media.protocol``); the
    browser names itself and joins as an expert (no moderation)."""
    _dev_only(request)
    same_origin(request)
    return await serve(request, request.match_info["room_id"], lang_of(request), None)
