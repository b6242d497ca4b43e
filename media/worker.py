"""A media worker process: rooms in their own process, driven by the web process.

Started by :class:`media.workers.WorkerRoomHost` as ``python -m media.worker FD``,
where ``FD`` is its end of a Unix socket pair. Both sides speak the typed messages of
:mod:`media.calls` (length-prefixed JSON): a ``Hello`` first (settings, and the factory of the
local host), answered by ``Ready``; then one ``Request`` per :class:`~media.host.RoomHost` call,
each answered by an ``Answer`` (its typed reply) or a ``Failure``; what the rooms give a
participant's sink goes back as a ``SinkFrame``.

The web process leads the worker's life: the worker ignores SIGINT and SIGTERM, which a terminal's
Ctrl+C, systemd (``KillMode=control-group``) and ``kill -- -PGID`` send to every process of the
server at once, so that the web process can end its calls through the worker (a recording is
finished and its stop reported) before it closes the socket; the worker exits when its socket
closes, so it never outlives the web process (SIGKILL ends a worker alone; the server starts another).
ICE/UDP sockets of its rooms are bound here.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import os
import signal
import socket
import sys
from collections.abc import Callable
from typing import cast

from media.calls import (
    Answer,
    CloseCall,
    CommandCall,
    ContinueRecordingCall,
    Done,
    Evented,
    Failure,
    Hello,
    JoinCall,
    Joined,
    LeaveCall,
    Ready,
    RecordingTimeCall,
    Reply,
    RoomCall,
    SignalCall,
    SinkFrame,
    Started,
    Stilled,
    Stopped,
    Summarised,
    SummaryCall,
    TakeStillCall,
    Timed,
    encode,
    read_to_worker,
)
from media.host import LocalRoomHost
from media.participant import Sink
from media.protocol import ServerMessage
from remote_check.errors import DomainError
from remote_check.settings import Settings

log = logging.getLogger(__name__)

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
"""What a service manager sends every process of the server to stop it: the worker leaves them to
the web process, which ends the worker's calls and then closes its socket."""

HostFactory = Callable[[Settings], LocalRoomHost]
"""Makes the local host of a process (by default :func:`media.workers.local_room_host`)."""


def load_factory(path: str) -> HostFactory:
    """The host factory named ``module:function`` (what it makes is checked when it is called)."""
    module, _, name = path.partition(":")
    loaded: object = getattr(importlib.import_module(module), name)
    if not callable(loaded):
        raise TypeError(f"{path} is not callable")
    factory = cast(Callable[[Settings], object], loaded)

    def make(settings: Settings) -> LocalRoomHost:
        host = factory(settings)
        if not isinstance(host, LocalRoomHost):
            raise TypeError(f"{path} made a {type(host).__name__}, not a LocalRoomHost")
        return host

    return make


async def run(host: LocalRoomHost, call: RoomCall, sink: Callable[[int], Sink]) -> Reply:
    """One call on the local host; its typed reply (``sink`` makes the sink of a join's number)."""
    match call:
        case JoinCall():
            connection = await host.join(
                call.room_id,
                call.identity,
                call.name,
                call.role.value,
                call.lang,
                sink(call.sink),
                call.guest,
            )
            return Joined(connection=connection)
        case SignalCall():
            await host.signal(call.room_id, call.connection, call.message)
            return Done()
        case CommandCall():
            return Evented(event=await host.command(call.room_id, call.connection, call.message))
        case LeaveCall():
            return Stopped(event=await host.leave(call.room_id, call.connection))
        case RecordingTimeCall():
            return Timed(time=await host.recording_time(call.room_id))
        case ContinueRecordingCall():
            return Started(event=await host.continue_recording(call.room_id))
        case TakeStillCall():
            return Stilled(still=await host.take_still(call.room_id))
        case SummaryCall():
            return Summarised(rooms=host.summary())
        case CloseCall():
            await host.close()
            return Done()


class Worker:
    """Serves calls on one local host over a connected socket."""

    def __init__(self, host: LocalRoomHost, writer: asyncio.StreamWriter) -> None:
        self.host = host
        self.writer = writer
        self.tasks: set[asyncio.Task[None]] = set()

    def send(self, message: Ready | Answer | Failure | SinkFrame) -> None:
        """Queue a message to the web process (never blocks)."""
        if not self.writer.is_closing():
            self.writer.write(encode(message))

    def sink(self, sink_id: int) -> Sink:
        """A sink that pushes messages for one participant back to the web process."""

        def push(message: ServerMessage) -> None:
            self.send(SinkFrame(sink=sink_id, message=message))

        return push

    async def call(self, call_id: int, call: RoomCall) -> None:
        """Run one call and answer it."""
        try:
            self.send(Answer(id=call_id, reply=await run(self.host, call, self.sink)))
        except Exception as exc:  # every failure is answered, the worker goes on
            if not isinstance(exc, DomainError):
                log.exception("media worker: %s failed", call.method)
            self.send(Failure.of(call_id, exc))

    def dispatch(self, call_id: int, call: RoomCall) -> None:
        """Start a call in its own task: a slow negotiation does not hold the others."""
        task = asyncio.create_task(self.call(call_id, call))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)


async def serve(fd: int) -> None:
    """Set up from the first message, then serve calls until the socket closes."""
    from media.internals import include_loopback_candidates, install_passthrough

    reader, writer = await asyncio.open_connection(sock=socket.socket(fileno=fd))
    hello = await read_to_worker(reader)
    if not isinstance(hello, Hello):
        return
    settings = hello.settings
    # the same process-wide setup as the web process gives an in-process host
    install_passthrough()
    if settings.rooms_loopback_candidates:
        include_loopback_candidates()
    host = load_factory(hello.factory)(settings)
    worker = Worker(host, writer)
    worker.send(Ready(pid=os.getpid()))
    try:
        while (message := await read_to_worker(reader)) is not None:
            if isinstance(message, Hello):
                raise ValueError("a second hello")
            worker.dispatch(message.id, message.call)
    finally:
        # the web process is gone or done: end every call before exiting
        for task in list(worker.tasks):
            task.cancel()
        await host.close()
        writer.close()


def main() -> None:
    """Entry point: ``python -m media.worker FD``."""
    for stop in STOP_SIGNALS:
        signal.signal(stop, signal.SIG_IGN)  # the web process stops the worker (see the module)
    logging.basicConfig(level=logging.WARNING, format="media worker %(process)d: %(levelname)s %(message)s")
    asyncio.run(serve(int(sys.argv[1])))


if __name__ == "__main__":
    main()
