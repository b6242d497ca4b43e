"""Rooms in media worker processes: a :class:`~media.host.RoomHost` whose every call goes to
the worker its room lives in.

Each worker (``media.worker``) is its own OS process with its own asyncio loop and a
local host (by default :func:`local_room_host`), so the rooms of a server use every core and
the ICE/UDP sockets of a room are bound in its worker. The web process keeps the WebSockets:
each :class:`~media.host.RoomHost` method is one typed call (:mod:`media.calls`) to the room's
worker over a Unix socket pair, answered by its typed reply; messages for a participant's browser
come back as sink frames and go to the participant's sink here.

A :class:`~media.routing.RoomRouter` places each room (least loaded worker when the room
is created, then sticky); it is the interface to change to spread rooms over several
machines. A worker that dies is noticed (its process exits): its participants get an error
message, its rooms are forgotten, and the worker is started again.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os

from media.calls import (
    CommandCall,
    ContinueRecordingCall,
    Done,
    Evented,
    JoinCall,
    Joined,
    LeaveCall,
    RecordingTimeCall,
    ReplyT,
    RoomCall,
    SignalCall,
    Started,
    Stilled,
    Stopped,
    Summarised,
    SummaryCall,
    TakeStillCall,
    Timed,
)
from media.config import RoomConfig
from media.events import RoomEvent
from media.host import LocalRoomHost, RoomHost, RoomSummary
from media.internals import include_loopback_candidates
from media.link import SinkEntry, WorkerFailed, WorkerLink, failure_message
from media.moderation import RoomRole
from media.participant import Sink
from media.protocol import OfferMessage, RoomCommand
from media.room import RecordingTime, Still
from media.routing import RoomRouter
from media.worker import load_factory
from recordings.events import RecordingStarted, RecordingStopped
from remote_check.settings import Settings

log = logging.getLogger(__name__)

DEFAULT_FACTORY = "media.workers:local_room_host"


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
        return load_factory(factory)(settings)
    return WorkerRoomHost(settings, count, factory)


def _log_failure(task: asyncio.Task[WorkerLink]) -> None:
    if not task.cancelled() and (exc := task.exception()) is not None:
        log.error("media worker failed to start: %s", exc)


class WorkerRoomHost:
    """A :class:`~media.host.RoomHost` whose rooms live in ``count`` worker processes.

    Each method is one typed call (:mod:`media.calls`) to the worker of its room. :meth:`join`
    places the room first (least loaded worker, then sticky) and registers the participant's sink
    for the connection it returns, until :meth:`leave` with that connection. :meth:`summary` asks
    every worker. Workers start on first use (or by :meth:`start`); :meth:`close` ends every call
    and every worker.
    """

    def __init__(self, settings: Settings, count: int, factory: str = DEFAULT_FACTORY) -> None:
        self.settings = settings
        self.factory = factory
        self.router: RoomRouter[int] = RoomRouter(range(count))
        self.links: dict[int, WorkerLink] = {}
        self._starting: dict[int, asyncio.Task[WorkerLink]] = {}
        self._monitors: set[asyncio.Task[None]] = set()
        self._sink_ids = itertools.count(1)
        self._closing = False
        self._woken = False

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

    async def _room_call(self, room_id: str, call: RoomCall, reply: type[ReplyT]) -> ReplyT:
        """``call`` in the worker ``room_id`` lives in; a room that lives nowhere is unknown to
        every worker alike: the least loaded is asked."""
        key = self.router.worker_of(room_id)
        link = await self._link(self.router.least_loaded() if key is None else key)
        return await link.call(call, reply)

    async def join(
        self, room_id: str, identity: str, name: str, role: str, lang: str, sink: Sink, guest: bool = False
    ) -> str:
        """See :meth:`RoomHost.join`: the room is placed (or found), the sink registered."""
        key = self.router.join(room_id)
        sink_id = next(self._sink_ids)
        entry = SinkEntry(sink, room_id)
        call = JoinCall(
            room_id=room_id,
            identity=identity,
            name=name,
            role=RoomRole(role),
            lang=lang,
            sink=sink_id,
            guest=guest,
        )
        link: WorkerLink | None = None
        try:
            link = await self._link(key)
            link.sinks[sink_id] = entry
            joined = await link.call(call, Joined)
        except BaseException:
            self.router.leave(room_id)
            if link is not None:
                link.sinks.pop(sink_id, None)
            raise
        entry.connection = joined.connection
        return joined.connection

    async def signal(self, room_id: str, connection: str, message: OfferMessage) -> None:
        """See :meth:`RoomHost.signal`."""
        await self._room_call(
            room_id, SignalCall(room_id=room_id, connection=connection, message=message), Done
        )

    async def command(self, room_id: str, connection: str, message: RoomCommand) -> RoomEvent | None:
        """See :meth:`RoomHost.command`."""
        call = CommandCall(room_id=room_id, connection=connection, message=message)
        return (await self._room_call(room_id, call, Evented)).event

    async def leave(self, room_id: str, connection: str) -> RecordingStopped | None:
        """See :meth:`RoomHost.leave`: the connection's sink is let go (and the room forgotten with
        the last one), also when the call fails."""
        key = self.router.worker_of(room_id)
        link = await self._link(self.router.least_loaded() if key is None else key)
        try:
            stopped = await link.call(LeaveCall(room_id=room_id, connection=connection), Stopped)
        finally:
            self._let_go(link, room_id, connection)
        return stopped.event

    async def recording_time(self, room_id: str) -> RecordingTime:
        """See :meth:`RoomHost.recording_time`."""
        return (await self._room_call(room_id, RecordingTimeCall(room_id=room_id), Timed)).time

    async def continue_recording(self, room_id: str) -> RecordingStarted | None:
        """See :meth:`RoomHost.continue_recording`."""
        return (await self._room_call(room_id, ContinueRecordingCall(room_id=room_id), Started)).event

    async def take_still(self, room_id: str) -> Still:
        """See :meth:`RoomHost.take_still`."""
        return (await self._room_call(room_id, TakeStillCall(room_id=room_id), Stilled)).still

    async def summary(self) -> list[list[RoomSummary]]:
        """What each room of each worker is doing (a list per worker, in the router's order)."""
        links = [await self._link(key) for key in self.router.workers]
        replies = await asyncio.gather(*(link.call(SummaryCall(), Summarised) for link in links))
        return [reply.rooms for reply in replies]

    def _let_go(self, link: WorkerLink, room_id: str, connection: str) -> None:
        for sink_id, entry in list(link.sinks.items()):
            if entry.room_id == room_id and entry.connection == connection:
                del link.sinks[sink_id]
                self.router.leave(room_id)
