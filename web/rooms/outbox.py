"""What the server sends one browser over its signalling socket: queued without waiting, written
in order by a task of its own, and bounded.

The room hands messages to :meth:`Outbox.put` (a participant's sink), which never waits, so a
broadcast never waits for anyone's socket. aiohttp's ``send_str`` writes into the transport and,
once the transport's buffer is past its high-water mark (the browser is not reading), waits
until it drains: meanwhile the messages wait here. When more than ``limit`` bytes wait, the
browser is not keeping up: the queue is dropped and the connection aborted (the page sees it
closed and rejoins), and the endpoint's handler then leaves the room, as on a leave. Nothing a
stuck browser is sent can grow the server's memory past that bound: the kernel's send buffer of
the socket is capped too (:data:`SEND_BUFFER`), and an ordinary close that the browser does not
read is cut short after :data:`CLOSE_GRACE` seconds the same way.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from collections import deque

from aiohttp import WSCloseCode, web

from media import protocol
from media.protocol import ServerMessage

log = logging.getLogger(__name__)

SEND_BUFFER = 128 * 1024
"""The kernel's send buffer of a signalling socket (Linux grows an unset one up to 4 MB)."""
CLOSE_GRACE = 2.0
"""Seconds a closing browser has to read what is left and the close frame."""
SLOW = b"not reading"


def wire_text(message: ServerMessage) -> str:
    """A server message as the browser reads it: the one place the models become JSON (the text
    is what ``json.dumps`` made of the dictionaries the server sent before they were models)."""
    return json.dumps(message.model_dump(mode="json"))


class Outbox:
    """The messages on their way to one browser. :meth:`put` queues one (never waits);
    :meth:`finish` sends what is queued, then closes the socket, within :data:`CLOSE_GRACE`.

    The writing task is never cancelled while it waits for the browser to read: aiohttp's
    transports share one drain future per connection, and cancelling a wait on it would fail
    every later write on that connection (the close frame too). A connection is cut short by
    aborting its transport instead, which ends that wait with an error.
    """

    def __init__(self, ws: web.WebSocketResponse, transport: asyncio.Transport | None, limit: int) -> None:
        self.ws = ws
        self.transport = transport
        self.limit = limit
        self.cut_off = False  # closed because the browser did not keep up
        self._queue: deque[tuple[str, bool]] = deque()  # text, and whether the socket closes after it
        self._queued = 0
        self._ready = asyncio.Event()
        self._ending: tuple[int, bytes] | None = None  # the close code and reason, once closing
        self._abort_later: asyncio.TimerHandle | None = None
        self._writer = asyncio.ensure_future(self._write())
        sock = None if transport is None else transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER)

    @property
    def queued(self) -> int:
        """Bytes waiting to be written."""
        return self._queued

    def put(self, message: ServerMessage) -> None:
        """Queue a message (ignored once the socket is closing). After a ``removed`` or
        ``replaced`` message the socket is closed."""
        if self._ending is not None:
            return
        text = wire_text(message)
        closes = message.type in protocol.CLOSING
        self._queue.append((text, closes))
        self._queued += len(text)
        if closes:
            self._ending = (WSCloseCode.OK, b"")
        elif self._queued > self.limit:
            log.info("signalling: %s bytes wait for a browser that does not read; closing it", self._queued)
            self.cut_off = True
            self._queue.clear()
            self._queued = 0
            self._ending = (WSCloseCode.TRY_AGAIN_LATER, SLOW)
            # a close frame would wait behind everything the browser has not read: drop it all
            self.abort()
        self._ready.set()

    def _abort_in(self, seconds: float) -> None:
        if self._abort_later is None:
            self._abort_later = asyncio.get_running_loop().call_later(seconds, self.abort)

    def abort(self) -> None:
        """Drop the connection at once, with whatever it still had to send."""
        if self.transport is not None:
            self.transport.abort()

    async def _write(self) -> None:
        while self._queue or self._ending is None:
            if not self._queue:
                self._ready.clear()
                await self._ready.wait()
                continue
            text, closes = self._queue.popleft()
            self._queued -= len(text)
            if self.ws.closed:
                continue
            try:
                await self.ws.send_str(text)
            except ConnectionError:
                continue
            if closes:
                break
        code, reason = self._ending or (WSCloseCode.OK, b"")
        await self.ws.close(code=code, message=reason)

    async def finish(self, code: int = WSCloseCode.OK, reason: bytes = b"") -> None:
        """Send what is queued, then close with ``code`` (unless closing already); a browser that
        does not take it all within :data:`CLOSE_GRACE` is cut off."""
        if self._ending is None:
            self._ending = (code, reason)
            self._ready.set()
        self._abort_in(CLOSE_GRACE)
        try:
            await asyncio.shield(self._writer)
        except BaseException:
            self.abort()  # cancelled (a shutdown), or the socket failed: end it now
            raise
        finally:
            if self._abort_later is not None:
                self._abort_later.cancel()
