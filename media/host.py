"""Where rooms run. The web layer talks to a :class:`RoomHost` only: :class:`LocalRoomHost` runs
the rooms in this process, :class:`media.workers.WorkerRoomHost` in media worker processes (one
typed call each way per method, see :mod:`media.calls`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from media.config import RoomConfig
from media.events import RoomEvent
from media.internals import install_passthrough
from media.moderation import RoomRole
from media.participant import Sink
from media.protocol import OfferMessage, RoomCommand
from media.room import Member, RecordingTime, Room, Still
from recordings.events import RecordingStarted, RecordingStopped
from remote_check.errors import DomainError, Message


class RoomHost(Protocol):
    """Rooms, as the signalling endpoints see them. Every argument, result and message given
    to a sink is plain data (dataclasses, pydantic models of ``media.protocol``, JSON-able
    messages), so the host may live in another process.

    Who someone is (``identity``: ``user:7``, ``guest:3``), their name and role are decided by
    the endpoint, never by the browser. A refusal (room full, removed, not the host, waiting)
    is raised as a :class:`~remote_check.errors.DomainError`. After a sink receives a message
    whose type is in ``protocol.CLOSING`` (``removed``, ``replaced``) the endpoint closes that
    socket; the host has already let the connection go.
    """

    async def join(
        self, room_id: str, identity: str, name: str, role: str, lang: str, sink: Sink, guest: bool = False
    ) -> str:
        """Enter ``room_id`` (made on first use) as ``role`` (a ``RoomRole`` value); the
        connection's id. Messages to the browser, in ``lang`` where they are text, go to ``sink``.
        A ``guest`` (by link) waits for the host unless the room is open to guests."""
        ...

    async def signal(self, room_id: str, connection: str, message: OfferMessage) -> None:
        """A negotiation message of the connection's browser."""
        ...

    async def command(self, room_id: str, connection: str, message: RoomCommand) -> RoomEvent | None:
        """Moderation (host only), one's own mute, one's hand. Returns the event the endpoint
        audits, when there is one: ``AuditEvent("room.admit", "guest:3")``, or a recording's
        start or stop."""
        ...

    async def leave(self, room_id: str, connection: str) -> RecordingStopped | None:
        """The connection is gone (a no-op when it already left, was replaced or removed).
        When it was the last one of a recording room, the recording stops: its event."""
        ...

    async def recording_time(self, room_id: str) -> RecordingTime:
        """Now on the room's recording clock (refused when the room is not recording)."""
        ...

    async def continue_recording(self, room_id: str) -> RecordingStarted | None:
        """Record again after a server failure cut the recording (a new part on the same clock);
        its start, or None when the room records already or is gone."""
        ...

    async def take_still(self, room_id: str) -> Still:
        """A still of the room's screen share, saved with the recording (refused when nobody
        shares or the room is not recording)."""
        ...

    async def close(self) -> None:
        """End every call."""
        ...


@dataclass(frozen=True)
class RoomSummary:
    """Counts for monitoring: who is in a room, what is forwarded."""

    room_id: str
    participants: int
    published: int
    forwarding: int


class LocalRoomHost:
    """Rooms in this process. The first join installs aiortc's passthrough: from then on no
    remote track of this process is decoded (see ``media.internals``)."""

    def __init__(self, config: RoomConfig) -> None:
        self.config = config
        self.rooms: dict[str, Room] = {}

    def _member(self, room_id: str, connection: str) -> tuple[Room, Member] | None:
        room = self.rooms.get(room_id)
        member = room.member(connection) if room is not None else None
        if room is None or member is None:
            return None
        return room, member

    async def join(
        self, room_id: str, identity: str, name: str, role: str, lang: str, sink: Sink, guest: bool = False
    ) -> str:
        """See :meth:`RoomHost.join`."""
        install_passthrough()
        room = self.rooms.get(room_id)
        if room is None:
            room = self.rooms[room_id] = Room(room_id, self.config)
        try:
            return await room.join(identity, name, RoomRole(role), lang, sink, guest=guest)
        finally:
            self._forget_if_empty(room)

    async def signal(self, room_id: str, connection: str, message: OfferMessage) -> None:
        """See :meth:`RoomHost.signal`."""
        found = self._member(room_id, connection)
        if found is not None:
            room, member = found
            await room.offer(member, message)

    async def command(self, room_id: str, connection: str, message: RoomCommand) -> RoomEvent | None:
        """See :meth:`RoomHost.command`."""
        found = self._member(room_id, connection)
        if found is None:
            return None
        room, member = found
        return await room.command(member, message)

    async def leave(self, room_id: str, connection: str) -> RecordingStopped | None:
        """See :meth:`RoomHost.leave`."""
        room = self.rooms.get(room_id)
        if room is None:
            return None
        stopped = await room.leave(connection)
        self._forget_if_empty(room)
        return stopped

    def _room(self, room_id: str) -> Room:
        room = self.rooms.get(room_id)
        if room is None:
            raise DomainError(Message("会议尚未开始", "The session's call is not on"), 409, "no_call")
        return room

    async def recording_time(self, room_id: str) -> RecordingTime:
        """See :meth:`RoomHost.recording_time`."""
        return self._room(room_id).recording_time()

    async def continue_recording(self, room_id: str) -> RecordingStarted | None:
        """See :meth:`RoomHost.continue_recording`."""
        room = self.rooms.get(room_id)
        return await room.continue_recording() if room is not None else None

    async def take_still(self, room_id: str) -> Still:
        """See :meth:`RoomHost.take_still`."""
        return await self._room(room_id).take_still()

    def _forget_if_empty(self, room: Room) -> None:
        # A room is kept while anyone is connected; moderation state (removed people, mutes)
        # lasts as long as the room does.
        if not room.members and self.rooms.get(room.id) is room:
            del self.rooms[room.id]

    async def close(self) -> None:
        """See :meth:`RoomHost.close`."""
        rooms, self.rooms = list(self.rooms.values()), {}
        for room in rooms:
            await room.close()

    def summary(self) -> list[RoomSummary]:
        """What each room of this process is doing now."""
        return [
            RoomSummary(
                room.id,
                len(room.participants),
                sum(len(p.published()) for p in room.participants.values()),
                sum(1 for p in room.participants.values() for s in p.slots.values() if s.feed is not None),
            )
            for room in self.rooms.values()
        ]
