"""Which media worker a room lives in: the one small interface behind which rooms spread.

A :class:`RoomRouter` knows nothing of processes or sockets. It hands out *worker keys* (here
the index of a local worker process) and keeps, per room, the worker the room was placed on
and how many participants it has. A room is placed on the least loaded worker (fewest
participants) when its first participant arrives, and stays there until its last one leaves.

Spreading rooms over several machines later means a router whose keys name remote media
servers (``"10.0.0.7:9500"``) instead of local worker indexes, and a link per key that speaks
the same length-prefixed JSON over TCP instead of a socket pair: nothing else of the web
process changes (see ``media.workers``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

Key = TypeVar("Key", bound=Hashable)


@dataclass
class Placement(Generic[Key]):
    """A room's worker and how many participants it has (joins in flight included)."""

    worker: Key
    participants: int = 0


class RoomRouter(Generic[Key]):
    """Places rooms on workers: least loaded at creation, then sticky."""

    def __init__(self, workers: Iterable[Key]) -> None:
        self.workers: list[Key] = list(workers)
        if not self.workers:
            raise ValueError("a router needs at least one worker")
        self.rooms: dict[str, Placement[Key]] = {}

    def load(self) -> Counter[Key]:
        """Participants per worker (every worker present, idle ones with 0)."""
        load: Counter[Key] = Counter({worker: 0 for worker in self.workers})
        for placement in self.rooms.values():
            load[placement.worker] += placement.participants
        return load

    def least_loaded(self) -> Key:
        """The worker with the fewest participants; the first one listed on a tie."""
        load = self.load()
        return min(self.workers, key=lambda worker: load[worker])

    def worker_of(self, room_id: str) -> Key | None:
        """Where the room lives now, or ``None`` when it has no participant."""
        placement = self.rooms.get(room_id)
        return None if placement is None else placement.worker

    def join(self, room_id: str) -> Key:
        """A participant is joining ``room_id``: the room's worker (placing the room if new)."""
        placement = self.rooms.get(room_id)
        if placement is None:
            placement = self.rooms[room_id] = Placement(self.least_loaded())
        placement.participants += 1
        return placement.worker

    def leave(self, room_id: str) -> None:
        """A participant left (or its join failed); an empty room is forgotten."""
        placement = self.rooms.get(room_id)
        if placement is None:
            return
        placement.participants -= 1
        if placement.participants <= 0:
            del self.rooms[room_id]

    def drop_worker(self, worker: Key) -> list[str]:
        """The worker lost its rooms (it crashed): forget them, and say which they were. The
        worker stays available for new rooms (it is restarted)."""
        lost = [room_id for room_id, placement in self.rooms.items() if placement.worker == worker]
        for room_id in lost:
            del self.rooms[room_id]
        return lost
