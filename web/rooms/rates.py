"""How often a browser may send each kind of signalling message: a token bucket per kind, per
connection. Pure: the time comes from the clock it is given (seconds, monotonic), no I/O.

A bucket holds up to ``burst`` messages and refills at ``per_second``. The limits fit what a
browser does: offers come in a burst when someone joins or people arrive (receiving slots,
screen share, an ICE restart), then now and then; a hand or one's own mute is a click; the host
may admit or mute several people in a row. A message past its kind's limit is refused and
changes nothing. Refusals take from one more bucket (``abuse``): a browser that keeps sending
past the limits empties it and its connection is closed, while one that only brushes a limit
now and then never does. A person known to the server (a session's room) keeps their limits
across connections (:class:`PeopleLimits`), and each connection takes a ``join``, so connecting
again refills nothing.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Rate:
    """Up to ``burst`` at once, then ``per_second`` on average."""

    burst: int
    per_second: float


MALFORMED = "malformed"
"""The kind of a message that could not be read (bad JSON, unknown type, bad fields)."""

SIGNALLING_RATES: Mapping[str, Rate] = {
    "offer": Rate(burst=20, per_second=2.0),
    "join": Rate(burst=6, per_second=0.1),  # a connection (a reload, a rejoin after a failure)
    "leave": Rate(burst=2, per_second=0.2),
    "moderate": Rate(burst=20, per_second=4.0),
    "self_mute": Rate(burst=8, per_second=3.0),
    "hand": Rate(burst=5, per_second=2.0),
    MALFORMED: Rate(burst=5, per_second=1.0),
}
"""The limit of each kind of message a browser sends (``media.protocol``); any other kind is
limited as :data:`MALFORMED`."""

ABUSE = Rate(burst=50, per_second=2.0)
"""Refusals a connection may collect before it is closed: 50 in a row, or more than 2 a second
for long."""


class Verdict(enum.Enum):
    """What becomes of one message."""

    ALLOW = "allow"
    REFUSE = "refuse"  # refused: tell the browser
    REFUSE_QUIETLY = "refuse_quietly"  # refused again in the same run: it was told already
    CLOSE = "close"  # past the limits for too long: close the connection


@dataclass
class TokenBucket:
    """Tokens for one kind of message; :meth:`take` spends one if there is one."""

    rate: Rate
    tokens: float
    at: float  # when ``tokens`` was last brought up to date

    @classmethod
    def full(cls, rate: Rate, now: float) -> TokenBucket:
        """A bucket that allows a whole burst now."""
        return cls(rate, float(rate.burst), now)

    def take(self, now: float) -> bool:
        """Spend a token at ``now`` (a clock going backwards refills nothing)."""
        if now > self.at:
            self.tokens = min(float(self.rate.burst), self.tokens + (now - self.at) * self.rate.per_second)
            self.at = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


class MessageLimiter:
    """The limits of one signalling connection.

    ``check(kind)`` for every message received, before it does anything. A run of refusals of a
    kind is told once (:attr:`Verdict.REFUSE`, then :attr:`Verdict.REFUSE_QUIETLY` until a message
    of that kind is allowed again), so a flood never makes the server flood back.
    """

    def __init__(
        self, clock: Callable[[], float], rates: Mapping[str, Rate] = SIGNALLING_RATES, abuse: Rate = ABUSE
    ) -> None:
        self.clock = clock
        self.rates = rates
        self.refused = 0  # every refusal so far
        self._buckets: dict[str, TokenBucket] = {}
        self._refusals = TokenBucket.full(abuse, clock())
        self._told: set[str] = set()
        self.used = clock()  # when it last checked a message

    def check(self, kind: str) -> Verdict:
        """Whether a message of ``kind`` (a protocol ``type``, or :data:`MALFORMED`) may go on."""
        now = self.used = self.clock()
        if kind not in self.rates:
            kind = MALFORMED
        bucket = self._buckets.get(kind)
        if bucket is None:
            bucket = self._buckets[kind] = TokenBucket.full(self.rates[kind], now)
        if bucket.take(now):
            self._told.discard(kind)
            return Verdict.ALLOW
        self.refused += 1
        if not self._refusals.take(now):
            return Verdict.CLOSE
        if kind in self._told:
            return Verdict.REFUSE_QUIETLY
        self._told.add(kind)
        return Verdict.REFUSE


class PeopleLimits:
    """The limits of each person in each room, kept across their connections. A person's limiter
    unused for :attr:`forget_after` seconds (every bucket full again: as good as new) is
    forgotten, so the registry holds only people active lately."""

    def __init__(
        self, clock: Callable[[], float], rates: Mapping[str, Rate] = SIGNALLING_RATES, abuse: Rate = ABUSE
    ) -> None:
        self.clock = clock  # may be replaced (tests); every limiter reads it through :meth:`now`
        self.rates = rates
        self.abuse = abuse
        self.forget_after = max(r.burst / r.per_second for r in (*rates.values(), abuse))
        self._people: dict[tuple[str, str], MessageLimiter] = {}

    def now(self) -> float:
        """The limits' clock."""
        return self.clock()

    def connection(self) -> MessageLimiter:
        """Limits for a connection of someone not known yet (the development room)."""
        return MessageLimiter(self.now, self.rates, self.abuse)

    def of(self, room_id: str, identity: str) -> MessageLimiter:
        """The limits of ``identity`` in ``room_id``."""
        now = self.now()
        idle = [key for key, limiter in self._people.items() if now - limiter.used > self.forget_after]
        for key in idle:
            del self._people[key]
        limiter = self._people.get((room_id, identity))
        if limiter is None:
            limiter = self._people[(room_id, identity)] = self.connection()
        return limiter
