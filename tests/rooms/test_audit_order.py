"""A connection's audit entries are written in the order its events happened."""

from __future__ import annotations

import asyncio

from media.events import AuditEvent, RoomEvent
from web.rooms.signalling import _Audits


async def test_a_later_event_waits_for_the_one_before_it_to_be_written() -> None:
    written: list[str] = []
    slow_write = asyncio.Event()

    async def audit(event: RoomEvent) -> None:
        if event.action == "room.open_to_guests":
            await slow_write.wait()  # the first entry's transaction waits for the database
        written.append(event.action)

    audits = _Audits(audit, set())
    audits(AuditEvent("room.open_to_guests"))
    audits(AuditEvent("room.close_to_guests"))
    await asyncio.sleep(0)  # one turn of the loop: both writes have started (not a wait for time)
    assert written == []  # the second does not overtake the first
    slow_write.set()
    await audits.settle()
    assert written == ["room.open_to_guests", "room.close_to_guests"]
