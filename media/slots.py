"""Which published feed goes to which receiving slot of a subscriber.

A slot is one receiving m-line a subscriber's browser offered (``recvonly``). Slots are kept
and reused: when a feed ends its slot becomes free, and a new feed takes a free slot of its
kind without a new negotiation. Only when there are not enough slots does the subscriber have
to add some and offer again; it is then asked for a few more than it lacks (:func:`slots_to_ask`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

SLOT_BLOCK = 4
"""Receiving slots are asked for in blocks of this many per kind. When people join one after
another, each of the others would otherwise renegotiate for every one of them, and a renegotiation
is costly for the server (aiortc parses and writes the whole SDP of every m-line each time): in a
12-person room filling up within seconds, these negotiations held up everyone's first frames."""


def slots_to_ask(needed: Mapping[str, int], most: Mapping[str, int]) -> dict[str, int]:
    """The slots per kind to ask a subscriber for: what it needs, rounded up to a block, but no
    more than the room can ever send it (``most``)."""
    asked = {}
    for kind, count in needed.items():
        rounded = -(-count // SLOT_BLOCK) * SLOT_BLOCK
        asked[kind] = max(count, min(rounded, most.get(kind, count)))
    return asked


@dataclass(frozen=True)
class SlotState:
    """A subscriber's slot and the feed it carries now (``None``: free)."""

    mid: str
    kind: str
    feed: str | None


@dataclass(frozen=True)
class FeedRef:
    """A published feed the subscriber should receive."""

    id: str
    kind: str


@dataclass(frozen=True)
class SlotPlan:
    """What to change: slots to free, feeds to place, and slots still lacking per kind."""

    free: tuple[str, ...] = ()
    attach: tuple[tuple[str, str], ...] = ()
    lacking: dict[str, int] = field(default_factory=dict)

    @property
    def changes(self) -> bool:
        """Whether anything is to be done."""
        return bool(self.free or self.attach or self.lacking)


def plan_slots(slots: Sequence[SlotState], feeds: Sequence[FeedRef]) -> SlotPlan:
    """Keep feeds where they are, free slots whose feed is gone, place new feeds in free slots
    of their kind (in the order of the slots, then of the feeds), and count what is missing."""
    wanted = {feed.id for feed in feeds}
    free: list[str] = []
    available: dict[str, list[str]] = {}
    placed: set[str] = set()
    for slot in slots:
        if slot.feed is not None and slot.feed in wanted and slot.feed not in placed:
            placed.add(slot.feed)
            continue
        if slot.feed is not None:
            free.append(slot.mid)
        available.setdefault(slot.kind, []).append(slot.mid)
    attach: list[tuple[str, str]] = []
    lacking: Counter[str] = Counter()
    for feed in feeds:
        if feed.id in placed:
            continue
        placed.add(feed.id)
        pool = available.get(feed.kind, [])
        if pool:
            attach.append((pool.pop(0), feed.id))
        else:
            lacking[feed.kind] += 1
    attached = {mid for mid, _ in attach}
    return SlotPlan(
        free=tuple(mid for mid in free if mid not in attached),
        attach=tuple(attach),
        lacking=dict(lacking),
    )
