"""The signalling WebSocket loop shared by the development room and the rooms of check sessions.

The endpoint decides who the browser is (an :class:`Entrant`) before the loop starts; the
development room alone lets the browser name itself with a ``join`` message. Every message the
browser sends is first checked against its kind's rate limit (:mod:`web.rooms.rates`): past it,
the message is refused (the browser is told once per run of refusals) and does nothing; a browser
that keeps at it is disconnected (1008). A person's limits outlast their connection, and
connecting counts as a ``join``: one who connects too often is refused (1008). Messages the room
sends go out through a bounded :class:`~web.rooms.outbox.Outbox`, so the media path never waits
for a socket and a browser that does not read is disconnected instead of growing the server's
memory; after a ``removed`` or ``replaced`` message the socket is closed. Audit events are
recorded by a callback in tasks of their own, off the media path.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from aiohttp import WSCloseCode, WSMsgType, web

from media import protocol
from media.events import AuditEvent, RoomEvent
from media.moderation import RoomRole
from media.protocol import (
    AnyClientMessage,
    ErrorMessage,
    JoinMessage,
    LeaveMessage,
    OfferMessage,
    RoomCommand,
)
from recordings.events import RecordingStarted, RecordingStopped
from remote_check.errors import DomainError, Forbidden, Message, invalid
from web.keys import ROOMS, SETTINGS
from web.rooms.outbox import Outbox
from web.rooms.rates import MALFORMED, MessageLimiter, PeopleLimits, Verdict

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


SIGNAL_LIMITS = web.AppKey("room_signal_limits", PeopleLimits)
"""The signalling rate limits of the people in the rooms (their clock: ``time.monotonic``)."""

TOO_MANY = Message("消息过于频繁，已被拒绝，请稍后再试", "Too many messages: refused, try again shortly")
TOO_OFTEN = Message("连接过于频繁，请稍后再进入会议", "Connecting too often: try again in a little while")
CLOSED_FOR_FLOODING = Message(
    "消息过于频繁，连接已被服务器关闭", "Too many messages: the server closed the connection"
)
FLOODING = b"too many messages"


def rate_limited(kind: str, message: Message = TOO_MANY) -> DomainError:
    """A message refused for its kind's rate limit (``fields`` names the kind)."""
    return DomainError(message, 429, "rate_limited", [{"field": "type", "value": kind}])


Audit = Callable[[RoomEvent], Awaitable[None]]
"""Record an event in the audit log: ``AuditEvent("room.admit", "guest:3")``, or a recording's
start (its part, folder and clock origin) or stop (its manifest's digest)."""


@dataclass(frozen=True)
class Entrant:
    """Who a connection is, as the server decided: identity, fixed name, role, and whether they
    came by a guest's link (guests wait for the host unless the room is open to them)."""

    identity: str
    name: str
    role: RoomRole
    guest: bool = False


def same_origin(request: web.Request) -> None:
    """Refuse a WebSocket opened by another site's page (the cookie would come along)."""
    origin = request.headers.get("Origin")
    if origin and urlsplit(origin).netloc != request.host:
        raise Forbidden(Message("跨站连接被拒绝", "Cross-site connection refused"))


class _Audits:
    """A connection's audit entries, written in the order its events happened (one after another)."""

    def __init__(self, audit: Audit | None, pending: set[asyncio.Task[None]]) -> None:
        self.audit = audit
        self.tasks: set[asyncio.Task[None]] = set()
        self.pending = pending  # the app's: a shutdown waits for them
        self._last: asyncio.Task[None] | None = None

    def __call__(self, event: RoomEvent) -> None:
        if self.audit is None:
            return
        task = asyncio.ensure_future(self._record(event, self._last))
        self._last = task
        for tasks in (self.tasks, self.pending):
            tasks.add(task)
            task.add_done_callback(tasks.discard)

    async def _record(self, event: RoomEvent, after: asyncio.Task[None] | None) -> None:
        assert self.audit is not None
        if after is not None:
            await asyncio.wait({after})  # never raises, also when that one was cancelled
        try:
            await self.audit(event)
        except Exception:
            log.exception("audit of %s failed", event.action)

    async def settle(self) -> None:
        if self.tasks:
            await asyncio.gather(*self.tasks, return_exceptions=True)


Joined = Callable[[], Awaitable[RecordingStarted | None]]
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
    ws = web.WebSocketResponse(heartbeat=HEARTBEAT, max_msg_size=MAX_MESSAGE)
    await ws.prepare(request)
    await SignallingConnection(request, ws, room_id, lang, entrant, audit, joined).run()
    return ws


class SignallingConnection:
    """One browser's signalling socket, in named steps: :meth:`admit` (a decided entrant joins at
    once), :meth:`read` (each message is rate limited, then handled by its kind), :meth:`finish`
    (leave the room, write the audits, close the socket)."""

    def __init__(
        self,
        request: web.Request,
        ws: web.WebSocketResponse,
        room_id: str,
        lang: str,
        entrant: Entrant | None,
        audit: Audit | None,
        joined: Joined | None,
    ) -> None:
        app = request.app
        self.ws = ws
        self.room_id = room_id
        self.lang = lang
        self.entrant = entrant
        self.joined = joined
        self.host = app[ROOMS]
        self.sockets = app[SOCKETS]
        self.sockets.add(ws)
        self.outbox = Outbox(ws, request.transport, app[SETTINGS].room_send_backlog_kib * 1024)
        limits = app[SIGNAL_LIMITS]
        self.limiter = limits.connection() if entrant is None else limits.of(room_id, entrant.identity)
        self.audits = _Audits(audit, app[PENDING_AUDITS])
        self.connection: str | None = None  # the room's id of this connection, once joined
        self.closing: tuple[int, bytes] = (WSCloseCode.OK, b"")

    async def run(self) -> None:
        """Admit the browser, read its messages until it is done, then finish."""
        try:
            if await self.admit():
                await self.read()
        except Exception:
            log.exception("room %s: signalling failed", self.room_id)
        finally:
            await self.finish()

    def refuse(self, err: DomainError) -> None:
        """Tell the browser why something it asked for was refused."""
        self.outbox.put(ErrorMessage.refusing(err, self.lang))

    async def admit(self) -> bool:
        """Join the entrant the endpoint decided on (a development room's browser joins later, by
        a ``join`` message); False when the connection ends here."""
        if self.entrant is None:
            return True
        if self.limiter.check("join") != Verdict.ALLOW:  # reconnecting to refill the limits
            self.refuse(rate_limited("join", TOO_OFTEN))
            self.closing = (WSCloseCode.POLICY_VIOLATION, FLOODING)
            return False
        self.connection = await self.enter(self.entrant)
        if self.connection is None:
            return False
        await self.after_join(self.entrant)
        return True

    async def enter(self, who: Entrant) -> str | None:
        """Join the room; the connection's id, or None when the room refused (the browser is told)."""
        try:
            made = await self.host.join(
                self.room_id,
                who.identity,
                who.name,
                who.role.value,
                self.lang,
                self.outbox.put,
                guest=who.guest,
            )
        except DomainError as exc:
            self.refuse(exc)
            return None
        self.audits(AuditEvent("room.join", who.identity))
        return made

    async def after_join(self, who: Entrant) -> None:
        if self.joined is None:
            return
        try:
            event = await self.joined()
        except Exception:  # the call goes on without what follows a join
            log.exception("room %s: after the join of %s", self.room_id, who.identity)
            return
        if event is not None:
            self.audits(event)

    async def read(self) -> None:
        """Handle the browser's messages until it leaves, sends something that is not text, or
        floods (then it is told, and closed with 1008)."""
        async for frame in self.ws:
            if frame.type != WSMsgType.TEXT:
                break
            try:
                if not await self.receive(frame.data):
                    break
            except Flooding as flooding:
                self.refuse(flooding.refusal)
                self.closing = (WSCloseCode.POLICY_VIOLATION, FLOODING)
                log.info(
                    "room %s: closing a flooding connection (%s refused)", self.room_id, self.limiter.refused
                )
                break
            except DomainError as exc:
                self.refuse(exc)

    async def receive(self, data: str) -> bool:
        """One message of the browser, parsed and rate limited here once; False when it leaves."""
        message = _admitted_message(self.limiter, data)
        if isinstance(message, LeaveMessage):
            return False
        if isinstance(message, JoinMessage):
            await self.join_by_name(message)
        elif message is not None:
            await self.dispatch(message)
        return True

    async def join_by_name(self, message: JoinMessage) -> None:
        """The development room's browser names itself."""
        if self.connection is not None or self.entrant is not None:
            raise invalid("已经加入会议", "Already in the room", field="type")
        dev = Entrant(f"dev:{uuid.uuid4().hex}", message.name, RoomRole.EXPERT)
        self.connection = await self.enter(dev)

    async def dispatch(self, message: OfferMessage | RoomCommand) -> None:
        """An offer goes to the negotiation, anything else to the room as a command (its audit
        event, if any, is recorded)."""
        if self.connection is None:
            raise invalid("请先加入会议", "Join the room first", field="type")
        if isinstance(message, OfferMessage):
            await self.host.signal(self.room_id, self.connection, message)
            return
        event = await self.host.command(self.room_id, self.connection, message)
        if event is not None:
            self.audits(event)

    async def finish(self) -> None:
        """Leave the room, write what it recorded, close the socket (each step also when one before
        it failed or the handler is cancelled)."""
        try:
            await self.leave()
        finally:
            try:  # what the leave recorded is written before the browser sees the socket close
                await asyncio.shield(self.audits.settle())
            finally:
                try:
                    await self.outbox.finish(*self.closing)
                finally:
                    self.sockets.discard(self.ws)

    async def leave(self) -> None:
        if self.connection is None:
            return
        if self.entrant is not None:
            self.audits(AuditEvent("room.leave", self.entrant.identity))
        # even when the handler is cancelled, the participant leaves the room, and if it was the last
        # one, the recording's stop is audited
        leaving = asyncio.ensure_future(self.host.leave(self.room_id, self.connection))
        leaving.add_done_callback(functools.partial(_audit_stop, self.audits))
        self.sockets.hold(leaving)
        await asyncio.shield(leaving)


class Flooding(Exception):
    """A browser kept sending past the rate limits: its connection is closed."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.refusal = rate_limited(kind, CLOSED_FOR_FLOODING)


def _admitted_message(limiter: MessageLimiter, data: str) -> AnyClientMessage | None:
    """The browser's message if its kind is within its rate limit; None when it is refused quietly.
    Raises the refusal to tell (a :class:`DomainError`: over the limit, or malformed), or
    :class:`Flooding`."""
    try:
        message: AnyClientMessage | None = protocol.parse_client_message(data)
        malformed = None
    except DomainError as exc:
        message, malformed = None, exc
    kind = MALFORMED if message is None else message.type
    verdict = limiter.check(kind)
    if verdict == Verdict.CLOSE:
        raise Flooding(kind)
    if verdict == Verdict.REFUSE:
        raise rate_limited(kind)
    if verdict == Verdict.REFUSE_QUIETLY:
        return None
    if malformed is not None:
        raise malformed
    return message


def _audit_stop(audits: _Audits, leaving: asyncio.Future[RecordingStopped | None]) -> None:
    if not leaving.cancelled() and leaving.exception() is None and (stopped := leaving.result()) is not None:
        audits(stopped)  # the last one left: the recording is finished
