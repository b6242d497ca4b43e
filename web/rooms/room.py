"""A room: its participants, and which feed each of them receives in which slot."""

from __future__ import annotations

import uuid
from collections import Counter

from remote_check.errors import Conflict, Message
from web.rooms import protocol
from web.rooms.config import RoomConfig
from web.rooms.forwarding import Feed
from web.rooms.participant import Participant, Sink
from web.rooms.protocol import OfferMessage
from web.rooms.slots import FeedRef, plan_slots


class Room:
    """Participants in one call. Everything any participant publishes is forwarded to every
    other participant; after each change, every participant's slots are planned again."""

    def __init__(self, room_id: str, config: RoomConfig) -> None:
        self.id = room_id
        self.config = config
        self.participants: dict[str, Participant] = {}

    def join(self, name: str, sink: Sink) -> Participant:
        """A new participant, told what it will receive; refused when the room is full."""
        if len(self.participants) >= self.config.max_participants:
            raise Conflict(
                Message(
                    f"会议人数已满（上限 {self.config.max_participants} 人）",
                    f"The room is full ({self.config.max_participants} participants at most)",
                )
            )
        participant = Participant(uuid.uuid4().hex[:12], name, sink, self.config)
        needed = Counter(feed.kind for feed in self._feeds_for(participant.id))
        participant.asked = dict(needed)
        self.participants[participant.id] = participant
        participant.send(
            protocol.joined(participant.id, self.id, self.config.browser_ice_servers(), dict(needed))
        )
        self._announce()
        return participant

    async def offer(self, participant: Participant, message: OfferMessage) -> None:
        """Negotiate with one participant, then forward what changed."""
        await participant.negotiate(message)
        self.rebalance()

    async def leave(self, participant: Participant) -> None:
        """Remove a participant: its feeds end and the slots that carried them become free."""
        if self.participants.pop(participant.id, None) is None:
            return
        for feed in participant.feeds.values():
            feed.source = None
        self.rebalance()
        self._announce()
        await participant.close()

    def _feeds_for(self, participant_id: str) -> list[Feed]:
        return [
            feed
            for other in self.participants.values()
            if other.id != participant_id
            for feed in other.published()
        ]

    def rebalance(self) -> None:
        """Give every participant the published feeds of the others."""
        for participant in self.participants.values():
            feeds = {feed.id: feed for feed in self._feeds_for(participant.id)}
            plan = plan_slots(participant.slot_states(), [FeedRef(f.id, f.kind) for f in feeds.values()])
            if not plan.changes:
                continue
            for mid in plan.free:
                participant.slots[mid].attach(None)
                participant.send(protocol.slot(mid, None))
            for mid, feed_id in plan.attach:
                feed = feeds[feed_id]
                participant.slots[mid].attach(feed)
                owner = self.participants[feed.owner]
                participant.send(protocol.slot(mid, owner.id, owner.name, feed.source or ""))
            self._ask_for_slots(participant, plan.lacking)

    def _ask_for_slots(self, participant: Participant, lacking: dict[str, int]) -> None:
        if not lacking:
            return
        have = Counter(slot.kind for slot in participant.slots.values())
        needed = {kind: have[kind] + lacking.get(kind, 0) for kind in ("audio", "video")}
        if all(needed[kind] <= participant.asked.get(kind, 0) for kind in needed):
            return
        participant.asked = {kind: max(needed[kind], participant.asked.get(kind, 0)) for kind in needed}
        participant.send(protocol.slots(participant.asked["audio"], participant.asked["video"]))

    def _announce(self) -> None:
        people = protocol.participants([p.info() for p in self.participants.values()])
        for participant in self.participants.values():
            participant.send(people)

    async def close(self) -> None:
        """Close every participant's connection."""
        for participant in list(self.participants.values()):
            await self.leave(participant)
