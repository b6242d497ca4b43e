"""Rooms in media worker processes: a :class:`~media.host.RoomHost` that forwards every
call to the worker its room lives in.

Each worker (``media.worker``) is its own OS process with its own asyncio loop and a
local host (by default :func:`local_room_host`), so the rooms of a server use every core and
the ICE/UDP sockets of a room are bound in its worker. The web process keeps the WebSockets:
a call (``join``, ``signal``, ``leave``, and any other method the local host has, forwarded by
name) goes to the room's worker over a Unix socket pair as length-prefixed JSON; messages for
a participant's browser come back as events and go to the participant's sink here.

A :class:`~media.routing.RoomRouter` places each room (least loaded worker when the room
is created, then sticky); it is the interface to change to spread rooms over several
machines. A worker that dies is noticed (its process exits): its participants get an error
message, its rooms are forgotten, and the worker is started again.
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
import logging
import os
import socket
import sys
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_type_hints

from pydantic import TypeAdapter
from pydantic_core import to_jsonable_python

from media.config import RoomConfig
from media.host import LocalRoomHost, RoomHost
from media.internals import include_loopback_candidates
from media.participant import Sink
from media.protocol import SERVER_MESSAGE, ErrorMessage
from media.routing import RoomRouter
from media.worker import SINK, encode, load_factory, read_message, rebuild_error
from remote_check.errors import DomainError, Message
from remote_check.settings import Settings

log = logging.getLogger(__name__)

DEFAULT_FACTORY = "media.workers:local_room_host"
START_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0
LEAVE = "leave"
"""The method after which a connection's sink is let go (and its room forgotten with the last)."""


def local_room_host(settings: Settings) -> LocalRoomHost:
    """The host of the rooms of one process (in a worker, or in the web process)."""
    return LocalRoomHost(RoomConfig.from_settings(settings))


def make_room_host(settings: Settings, factory: str = DEFAULT_FACTORY) -> RoomHost:
    """The app's room host: ``settings.media_workers`` worker processes (``None``: one per core),
    or the rooms in this process when it is 0."""
    count = settings.media_workers if settings.media_workers is not None else (os.cpu_count() or 1)
    if count <= 0:
        if settings.rooms_loopback_candidates:
            include_loopback_candidates()
        host: RoomHost = load_factory(factory)(settings)
        return host
    return WorkerRoomHost(settings, count, factory)


def worker_environment() -> dict[str, str]:
    """The web process's environment, with this checkout first on the import path (the
    worker is started as ``python -m media.worker`` from any directory)."""
    root = str(Path(__file__).resolve().parents[2])
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
        self.pending: dict[int, asyncio.Future[Any]] = {}
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
        self.writer.write(encode({"settings": settings.model_dump(mode="json"), "factory": factory}))
        ready = await asyncio.wait_for(read_message(reader), START_TIMEOUT)
        if ready is None or "ready" not in ready:
            raise RuntimeError(f"media worker {self.key} did not start")
        self.pid = int(ready["ready"])
        self.reader_task = asyncio.create_task(self._read(reader))

    async def _read(self, reader: asyncio.StreamReader) -> None:
        try:
            while (message := await read_message(reader)) is not None:
                self._deliver(message)
        except Exception:
            log.exception("media worker %s: unreadable message", self.pid)
        finally:
            # a worker that can no longer be heard from is as good as dead: end it, so that
            # the host notices, tells its participants and starts another
            if not self.stopping and self.process is not None and self.process.returncode is None:
                self.process.kill()

    def _deliver(self, message: dict[str, Any]) -> None:
        if "sink" in message:
            entry = self.sinks.get(int(message["sink"]))
            if entry is not None:
                try:
                    entry.sink(SERVER_MESSAGE.validate_python(message["message"]))
                except Exception:
                    log.exception("media worker %s: a sink failed", self.pid)
            return
        future = self.pending.pop(int(message["id"]), None)
        if future is None or future.done():
            return
        if "error" in message:
            future.set_exception(rebuild_error(message["error"]))
        else:
            future.set_result(message["result"])

    async def call(self, method: str, kwargs: dict[str, Any]) -> Any:
        """Call ``method`` of the worker's host; its JSON result."""
        if self.writer is None or self.writer.is_closing():
            raise WorkerFailed()
        call_id = next(self.ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.pending[call_id] = future
        try:
            self.writer.write(encode({"id": call_id, "method": method, "kwargs": kwargs}))
            await self.writer.drain()
        except ConnectionError as exc:
            self.pending.pop(call_id, None)
            raise WorkerFailed() from exc
        return await future

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
                await asyncio.wait_for(self.call("close", {}), STOP_TIMEOUT)
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


def _log_failure(task: asyncio.Task[WorkerLink]) -> None:
    if not task.cancelled() and (exc := task.exception()) is not None:
        log.error("media worker failed to start: %s", exc)


class WorkerRoomHost:
    """A :class:`~media.host.RoomHost` whose rooms live in ``count`` worker processes.

    Every method of the local host but :meth:`close` is forwarded by name, so methods it
    grows need nothing here. A call with a ``room_id`` argument goes to that room's worker; one
    that passes callables (``join``'s sink) places the room first and registers the callables
    as sinks, for the connection id it returns, until ``leave`` with that id. A call without
    ``room_id`` goes to every worker and gives the list of their results (worker order).
    Arguments travel as JSON and are validated in the worker against the local host's type
    hints; results are validated here against them. Workers start on first use (or by
    :meth:`start`); :meth:`close` ends every call and every worker.
    """

    def __init__(self, settings: Settings, count: int, factory: str = DEFAULT_FACTORY) -> None:
        self.settings = settings
        self.factory = factory
        host_type = get_type_hints(load_factory(factory)).get("return")
        if not isinstance(host_type, type):
            raise TypeError(f"{factory} must declare the class it returns")
        self.local_type: type = host_type
        self.router: RoomRouter[int] = RoomRouter(range(count))
        self.links: dict[int, WorkerLink] = {}
        self._starting: dict[int, asyncio.Task[WorkerLink]] = {}
        self._monitors: set[asyncio.Task[None]] = set()
        self._sink_ids = itertools.count(1)
        self._closing = False
        self._woken = False
        self._returns: dict[str, TypeAdapter[Any]] = {}

    async def start(self) -> None:
        """Start every worker now (otherwise each starts on its first call)."""
        await asyncio.gather(*(self._link(key) for key in self.router.workers))

    async def _link(self, key: int) -> WorkerLink:
        link = self.links.get(key)
        if link is not None:
            return link
        if self._closing:
            raise WorkerFailed()
        if not self._woken:
            # the first call starts every worker: the next rooms need not wait for theirs
            self._woken = True
            for other in self.router.workers:
                if other != key:
                    self._start_task(other).add_done_callback(_log_failure)
        return await asyncio.shield(self._start_task(key))

    def _start_task(self, key: int) -> asyncio.Task[WorkerLink]:
        task = self._starting.get(key)
        if task is None:
            task = self._starting[key] = asyncio.create_task(self._start_link(key))
        return task

    async def _start_link(self, key: int) -> WorkerLink:
        link = WorkerLink(key)
        try:
            await link.start(self.settings, self.factory)
        except BaseException:
            await link.stop()
            raise
        finally:
            self._starting.pop(key, None)
        self.links[key] = link
        monitor = asyncio.create_task(self._watch(link))
        self._monitors.add(monitor)
        monitor.add_done_callback(self._monitors.discard)
        return link

    async def _watch(self, link: WorkerLink) -> None:
        assert link.process is not None
        code = await link.process.wait()
        if self._closing or self.links.get(link.key) is not link:
            return
        log.error("media worker %s (pid %s) exited with %s; restarting it", link.key, link.pid, code)
        del self.links[link.key]
        self.router.drop_worker(link.key)
        for entry in link.fail():
            try:
                entry.sink(failure_message())
            except Exception:
                log.exception("room %s: the failure could not be told", entry.room_id)
        if link.reader_task is not None:
            await link.reader_task
        try:
            await self._link(link.key)
        except Exception:
            log.exception("media worker %s could not be restarted", link.key)

    def pids(self) -> dict[int, int]:
        """The process id of each running worker, by worker key."""
        return {key: link.pid for key, link in self.links.items()}

    def worker_pid(self, room_id: str) -> int | None:
        """The process id of the worker ``room_id`` lives in, if it lives anywhere."""
        key = self.router.worker_of(room_id)
        link = None if key is None else self.links.get(key)
        return None if link is None else link.pid

    async def close(self) -> None:
        """See :meth:`RoomHost.close`: end every call and stop every worker (no process is left)."""
        self._closing = True
        for task in list(self._starting.values()):
            try:
                await task
            except Exception:
                log.exception("media worker failed to start")
        links, self.links = list(self.links.values()), {}
        await asyncio.gather(*(link.stop() for link in links))
        for monitor in list(self._monitors):
            monitor.cancel()
        self.router.rooms.clear()

    async def _forward(self, method: str, arguments: dict[str, Any]) -> Any:
        """Call ``method`` of the local host with ``arguments`` (by name) in the right worker(s);
        its result as the local host would return it."""
        returns = self._returns.get(method)
        if returns is None:
            hints = get_type_hints(getattr(self.local_type, method))
            returns = self._returns[method] = TypeAdapter(hints.get("return", Any))
        if "room_id" not in arguments:
            links = [await self._link(key) for key in self.router.workers]
            results = await asyncio.gather(
                *(link.call(method, to_jsonable_python(arguments)) for link in links)
            )
            return [returns.validate_python(result) for result in results]
        room_id = str(arguments["room_id"])
        sinks = {name: value for name, value in arguments.items() if callable(value)}
        if sinks:
            return returns.validate_python(await self._enter(method, room_id, arguments, sinks))
        key = self.router.worker_of(room_id)
        # a room that lives nowhere is unknown to every worker alike: ask the least loaded
        link = await self._link(self.router.least_loaded() if key is None else key)
        try:
            result = await link.call(method, to_jsonable_python(arguments))
        finally:
            if method == LEAVE:
                self._let_go(link, room_id, {v for v in arguments.values() if isinstance(v, str)})
        return returns.validate_python(result)

    async def _enter(
        self, method: str, room_id: str, arguments: dict[str, Any], sinks: dict[str, Sink]
    ) -> Any:
        """A call that gives the host sinks (``join``): the room is placed (or found), the
        sinks registered; the string it returns names the connection :data:`LEAVE` lets go."""
        key = self.router.join(room_id)
        entries = {next(self._sink_ids): SinkEntry(sink, room_id) for sink in sinks.values()}
        markers = {name: {SINK: sink_id} for name, sink_id in zip(sinks, entries, strict=True)}
        link: WorkerLink | None = None
        try:
            link = await self._link(key)
            link.sinks.update(entries)
            result = await link.call(method, to_jsonable_python({**arguments, **markers}))
        except BaseException:
            self.router.leave(room_id)
            if link is not None:
                for sink_id in entries:
                    link.sinks.pop(sink_id, None)
            raise
        for entry in entries.values():
            entry.connection = result if isinstance(result, str) else None
        return result

    def _let_go(self, link: WorkerLink, room_id: str, names: set[str]) -> None:
        for sink_id, entry in list(link.sinks.items()):
            if entry.room_id == room_id and entry.connection in names:
                del link.sinks[sink_id]
                self.router.leave(room_id)

    def __getattr__(self, name: str) -> Callable[..., Coroutine[Any, Any, Any]]:
        """Any public method of the local host (``join``, ``signal``, ``command``, ``leave``...),
        run in the worker(s) (see the class)."""
        local_type = self.__dict__.get("local_type")
        if name.startswith("_") or not callable(getattr(local_type, name, None)):
            raise AttributeError(name)
        signature = inspect.signature(getattr(local_type, name))

        async def forward(*args: Any, **kwargs: Any) -> Any:
            bound = signature.bind(None, *args, **kwargs)
            return await self._forward(name, dict(list(bound.arguments.items())[1:]))

        return forward
