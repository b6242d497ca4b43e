"""One media worker process, seen from the web process: its start, the socket to it, the calls in
flight (each a typed request of :mod:`media.calls` answered by its typed reply), the participants'
sinks it serves, and its stop. :class:`media.workers.WorkerRoomHost` places rooms on links."""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import socket
import sys
from dataclasses import dataclass
from pathlib import Path

from media.calls import (
    Answer,
    CloseCall,
    Done,
    Failure,
    Hello,
    Ready,
    Reply,
    ReplyT,
    Request,
    RoomCall,
    SinkFrame,
    encode,
    read_from_worker,
)
from media.participant import Sink
from media.protocol import ErrorMessage
from remote_check.errors import DomainError, Message
from remote_check.settings import Settings

log = logging.getLogger(__name__)

START_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0


def worker_environment() -> dict[str, str]:
    """The web process's environment, with this checkout first on the import path (the
    worker is started as ``python -m media.worker`` from any directory)."""
    root = str(Path(__file__).resolve().parents[1])
    path = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": root if not path else f"{root}{os.pathsep}{path}"}


class WorkerFailed(DomainError):
    """The media worker of a room stopped; the call is over."""

    def __init__(self) -> None:
        super().__init__(
            Message(
                "媒体服务中断，通话已结束，请重新加入",
                "The media service failed; the call ended, please rejoin",
            ),
            503,
            "media_worker_failed",
        )


def failure_message() -> ErrorMessage:
    """What a participant's browser is told when its room's worker died (both languages: the
    worker does not know the browser's)."""
    err = WorkerFailed()
    return ErrorMessage(code=err.code, message=str(err.message))


@dataclass
class SinkEntry:
    """A participant's sink in the web process, and who it belongs to once joined."""

    sink: Sink
    room_id: str
    connection: str | None = None


class WorkerLink:
    """One worker process and the socket to it."""

    def __init__(self, key: int) -> None:
        self.key = key
        self.process: asyncio.subprocess.Process | None = None
        self.pid = 0
        self.writer: asyncio.StreamWriter | None = None
        self.pending: dict[int, asyncio.Future[Reply]] = {}
        self.sinks: dict[int, SinkEntry] = {}
        self.ids = itertools.count(1)
        self.reader_task: asyncio.Task[None] | None = None
        self.stopping = False

    async def start(self, settings: Settings, factory: str) -> None:
        """Start the process and wait until it is ready."""
        ours, theirs = socket.socketpair()
        try:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "media.worker",
                str(theirs.fileno()),
                pass_fds=(theirs.fileno(),),
                env=worker_environment(),
            )
        finally:
            theirs.close()
        reader, self.writer = await asyncio.open_connection(sock=ours)
        self.writer.write(encode(Hello(settings=settings, factory=factory)))
        ready = await asyncio.wait_for(read_from_worker(reader), START_TIMEOUT)
        if not isinstance(ready, Ready):
            raise RuntimeError(f"media worker {self.key} did not start")
        self.pid = ready.pid
        self.reader_task = asyncio.create_task(self._read(reader))

    async def _read(self, reader: asyncio.StreamReader) -> None:
        try:
            while (message := await read_from_worker(reader)) is not None:
                self._deliver(message)
        except Exception:
            log.exception("media worker %s: unreadable message", self.pid)
        finally:
            # a worker that can no longer be heard from is as good as dead: end it, so that
            # the host notices, tells its participants and starts another
            if not self.stopping and self.process is not None and self.process.returncode is None:
                self.process.kill()

    def _deliver(self, message: Ready | Answer | Failure | SinkFrame) -> None:
        if isinstance(message, Ready):
            raise ValueError("ready twice")
        if isinstance(message, SinkFrame):
            entry = self.sinks.get(message.sink)
            if entry is not None:
                try:
                    entry.sink(message.message)
                except Exception:
                    log.exception("media worker %s: a sink failed", self.pid)
            return
        future = self.pending.pop(message.id, None)
        if future is None or future.done():
            return
        if isinstance(message, Failure):
            future.set_exception(message.error.rebuild())
        else:
            future.set_result(message.reply)

    async def call(self, call: RoomCall, reply: type[ReplyT]) -> ReplyT:
        """Make ``call`` in the worker; its reply (of the kind the call answers with)."""
        if self.writer is None or self.writer.is_closing():
            raise WorkerFailed()
        call_id = next(self.ids)
        future: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        self.pending[call_id] = future
        try:
            self.writer.write(encode(Request(id=call_id, call=call)))
            await self.writer.drain()
        except ConnectionError as exc:
            self.pending.pop(call_id, None)
            raise WorkerFailed() from exc
        answered = await future
        if not isinstance(answered, reply):
            raise TypeError(f"media worker {self.pid}: {call.method} answered {answered.reply}")
        return answered

    def fail(self) -> list[SinkEntry]:
        """The process is gone: fail every call in flight; the sinks it served."""
        for future in self.pending.values():
            if not future.done():
                future.set_exception(WorkerFailed())
        self.pending.clear()
        entries, self.sinks = list(self.sinks.values()), {}
        if self.writer is not None:
            self.writer.close()
        return entries

    async def stop(self) -> None:
        """End the worker's calls, close its socket and wait for the process to exit."""
        if self.process is None:
            return
        self.stopping = True
        if self.process.returncode is None and self.reader_task is not None:
            try:
                await asyncio.wait_for(self.call(CloseCall(), Done), STOP_TIMEOUT)
            except TimeoutError:  # a recording it was finishing is finalised at the next start
                log.error("media worker %s did not close its rooms within %s s", self.pid, STOP_TIMEOUT)
            except Exception:
                log.exception("media worker %s did not close its rooms", self.pid)
        self.fail()
        try:
            await asyncio.wait_for(self.process.wait(), STOP_TIMEOUT)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
        if self.reader_task is not None:
            await self.reader_task
