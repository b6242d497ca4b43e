"""Where rooms run. The web layer talks to a :class:`RoomHost` only, so that a router can later
place rooms in media worker processes; :class:`LocalRoomHost` runs them in this process."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from web.rooms.config import RoomConfig
from web.rooms.internals import install_passthrough
from web.rooms.participant import Participant, Sink
from web.rooms.protocol import OfferMessage
from web.rooms.room import Room


class RoomHost(Protocol):
    """Rooms, as the signalling endpoint sees them. Every argument and every message given
    to a sink is plain JSON-able data, so the host may live in another process."""

    async def join(self, room_id: str, name: str, sink: Sink) -> str:
        """Enter ``room_id`` (made on first use); the participant's id. Messages to the
        participant's browser go to ``sink``."""
        ...

    async def signal(self, room_id: str, participant_id: str, message: OfferMessage) -> None:
        """A negotiation message of the participant's browser."""
        ...

    async def leave(self, room_id: str, participant_id: str) -> None:
        """The participant is gone (a no-op when it already left)."""
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
    remote track of this process is decoded (see ``web.rooms.internals``)."""

    def __init__(self, config: RoomConfig) -> None:
        self.config = config
        self.rooms: dict[str, Room] = {}

    def _participant(self, room_id: str, participant_id: str) -> tuple[Room, Participant] | None:
        room = self.rooms.get(room_id)
        if room is None or participant_id not in room.participants:
            return None
        return room, room.participants[participant_id]

    async def join(self, room_id: str, name: str, sink: Sink) -> str:
        """See :meth:`RoomHost.join`."""
        install_passthrough()
        room = self.rooms.get(room_id)
        if room is None:
            room = self.rooms[room_id] = Room(room_id, self.config)
        return room.join(name, sink).id

    async def signal(self, room_id: str, participant_id: str, message: OfferMessage) -> None:
        """See :meth:`RoomHost.signal`."""
        found = self._participant(room_id, participant_id)
        if found is not None:
            room, participant = found
            await room.offer(participant, message)

    async def leave(self, room_id: str, participant_id: str) -> None:
        """See :meth:`RoomHost.leave`."""
        found = self._participant(room_id, participant_id)
        if found is None:
            return
        room, participant = found
        await room.leave(participant)
        if not room.participants and self.rooms.get(room_id) is room:
            del self.rooms[room_id]

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
