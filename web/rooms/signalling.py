"""The signalling WebSocket loop shared by the development room and the rooms of check sessions.

The endpoint decides who the browser is (an :class:`Entrant`) before the loop starts; the
development room alone lets the browser name itself with a ``join`` message. Messages the
room sends go out through a queue, so the media path never waits for a socket; after a
``removed`` or ``replaced`` message the socket is closed. Audit events are recorded by a
callback in tasks of their own, off the media path.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from aiohttp import WSCloseCode, WSMsgType, web

from remote_check.errors import DomainError, Forbidden, Message, invalid
from web.keys import ROOMS
from web.rooms import protocol
from web.rooms.moderation import RoomRole
from web.rooms.protocol import JoinMessage, LeaveMessage, OfferMessage

log = logging.getLogger(__name__)

MAX_MESSAGE = 256 * 1024
HEARTBEAT = 20.0


class OpenSockets:
    """The open signalling sockets. A shutdown closes them and waits until their handlers are done
    and each has left its room (the last one out finishes a recording and reports it), even a
    handler cancelled while leaving."""

    def __init__(self) -> None:
        self.sockets: set[web.WebSocketResponse] = set()
        self._none = asyncio.Event()
        self._none.set()
        self._leaving: set[asyncio.Future[Any]] = set()

    def add(self, ws: web.WebSocketResponse) -> None:
        self.sockets.add(ws)
        self._none.clear()

    def discard(self, ws: web.WebSocketResponse) -> None:
        self.sockets.discard(ws)
        if not self.sockets:
            self._none.set()

    def hold(self, leaving: asyncio.Future[Any]) -> None:
        """A handler's leave, awaited by :meth:`close_all` (its failure is logged, not lost)."""
        self._leaving.add(leaving)
        leaving.add_done_callback(self._left)

    def _left(self, leaving: asyncio.Future[Any]) -> None:
        self._leaving.discard(leaving)
        if not leaving.cancelled() and (exc := leaving.exception()) is not None:
            log.info("leaving a room failed: %s", exc)

    async def close_all(self) -> None:
        """Close every socket and wait for their handlers and leaves (bound the wait with
        ``asyncio.timeout``)."""
        for ws in list(self.sockets):
            await ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown")
        await self._none.wait()
        while self._leaving:
            await asyncio.gather(*self._leaving, return_exceptions=True)


SOCKETS = web.AppKey("room_sockets", OpenSockets)
"""The open signalling sockets, closed on shutdown."""
PENDING_AUDITS = web.AppKey("room_audits", set[asyncio.Task[None]])
"""Audit entries still being written, awaited before the database closes."""

Audit = Callable[[Mapping[str, str]], Awaitable[None]]
"""Record an event in the audit log: ``{"action": "room.admit", "subject": "guest:3"}``, with more
keys for some (a recording's start names its part, folder and clock origin)."""


@dataclass(frozen=True)
class Entrant:
    """Who a connection is, as the server decided: identity, fixed name, role."""

    identity: str
    name: str
    role: RoomRole


def same_origin(request: web.Request) -> None:
    """Refuse a WebSocket opened by another site's page (the cookie would come along)."""
    origin = request.headers.get("Origin")
    if origin and urlsplit(origin).netloc != request.host:
        raise Forbidden(Message("跨站连接被拒绝", "Cross-site connection refused"))


class _Audits:
    def __init__(self, audit: Audit | None, pending: set[asyncio.Task[None]]) -> None:
        self.audit = audit
        self.tasks: set[asyncio.Task[None]] = set()
        self.pending = pending  # the app's: a shutdown waits for them

    def __call__(self, event: Mapping[str, str]) -> None:
        if self.audit is None:
            return
        task = asyncio.ensure_future(self._record(event))
        for tasks in (self.tasks, self.pending):
            tasks.add(task)
            task.add_done_callback(tasks.discard)

    async def _record(self, event: Mapping[str, str]) -> None:
        assert self.audit is not None
        try:
            await self.audit(event)
        except Exception:
            log.exception("audit of %s failed", event.get("action"))

    async def settle(self) -> None:
        if self.tasks:
            await asyncio.gather(*self.tasks, return_exceptions=True)


Joined = Callable[[], Awaitable[Mapping[str, str] | None]]
"""Called after each join; an event it returns is audited (a recording continued after a failure)."""


async def serve(
    request: web.Request,
    room_id: str,
    lang: str,
    entrant: Entrant | None,
    audit: Audit | None = None,
    joined: Joined | None = None,
) -> web.WebSocketResponse:
    """Run one browser's signalling socket until it leaves, is removed or replaced."""
    host = request.app[ROOMS]
    ws = web.WebSocketResponse(heartbeat=HEARTBEAT, max_msg_size=MAX_MESSAGE)
    await ws.prepare(request)
    sockets = request.app[SOCKETS]
    sockets.add(ws)
    outbox: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
    writer = asyncio.create_task(_write(ws, outbox))
    audits = _Audits(audit, request.app[PENDING_AUDITS])
    connection: str | None = None

    async def enter(who: Entrant) -> str | None:
        try:
            made = await host.join(room_id, who.identity, who.name, who.role.value, lang, outbox.put_nowait)
        except DomainError as exc:
            outbox.put_nowait(protocol.error(exc, lang))
            return None
        audits({"action": "room.join", "subject": who.identity})
        return made

    async def after_join(who: Entrant) -> None:
        if joined is None:
            return
        try:
            event = await joined()
        except Exception:  # the call goes on without what follows a join
            log.exception("room %s: after the join of %s", room_id, who.identity)
            return
        if event is not None:
            audits(event)

    try:
        if entrant is not None:
            connection = await enter(entrant)
            if connection is None:
                return ws
            await after_join(entrant)
        async for frame in ws:
            if frame.type != WSMsgType.TEXT:
                break
            try:
                message = protocol.parse_client_message(frame.data)
                if isinstance(message, LeaveMessage):
                    break
                if isinstance(message, JoinMessage):
                    if connection is not None or entrant is not None:
                        raise invalid("已经加入会议", "Already in the room", field="type")
                    dev = Entrant(f"dev:{uuid.uuid4().hex}", message.name, RoomRole.EXPERT)
                    connection = await enter(dev)
                elif connection is None:
                    raise invalid("请先加入会议", "Join the room first", field="type")
                elif isinstance(message, OfferMessage):
                    await host.signal(room_id, connection, message)
                else:
                    event = await host.command(room_id, connection, message)
                    if event is not None:
                        audits(event)
            except DomainError as exc:
                outbox.put_nowait(protocol.error(exc, lang))
    except Exception:
        log.exception("room %s: signalling failed", room_id)
    finally:
        try:
            if connection is not None:
                if entrant is not None:
                    audits({"action": "room.leave", "subject": entrant.identity})
                # even when the handler is cancelled, the participant leaves the room, and if it was
                # the last one, the recording's stop is audited
                leaving = asyncio.ensure_future(host.leave(room_id, connection))
                leaving.add_done_callback(functools.partial(_audit_stop, audits))
                sockets.hold(leaving)
                await asyncio.shield(leaving)
        finally:
            outbox.put_nowait(None)
            try:
                await writer
                await ws.close()
            finally:
                writer.cancel()
                sockets.discard(ws)
                await asyncio.shield(audits.settle())
    return ws


def _audit_stop(audits: _Audits, leaving: asyncio.Future[Mapping[str, str] | None]) -> None:
    if not leaving.cancelled() and leaving.exception() is None and (stopped := leaving.result()) is not None:
        audits(stopped)  # the last one left: the recording is finished


async def _write(ws: web.WebSocketResponse, outbox: asyncio.Queue[dict[str, Any] | None]) -> None:
    while (message := await outbox.get()) is not None:
        if ws.closed:
            continue
        try:
            await ws.send_json(message)
        except ConnectionError:
            continue
        if message.get("type") in protocol.CLOSING:
            await ws.close()
