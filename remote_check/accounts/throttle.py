"""Slowing down password guessing: a pure sliding-window counter of failed log-ins.

Failures are counted per user name and per client address; past the limit, further
attempts are refused until the oldest failure leaves the window. State lives in memory
(one server process signs people in); a restart forgets it, which only helps a guesser
once per restart.
"""

from __future__ import annotations

import datetime as dt
from collections import deque
from dataclasses import dataclass, field


@dataclass
class LoginThrottle:
    per_name: int = 5
    per_address: int = 20
    window: dt.timedelta = dt.timedelta(minutes=15)
    _failures: dict[str, deque[dt.datetime]] = field(default_factory=dict)

    def _recent(self, key: str, now: dt.datetime) -> deque[dt.datetime]:
        times = self._failures.setdefault(key, deque())
        while times and now - times[0] >= self.window:
            times.popleft()
        if not times:
            del self._failures[key]
            return deque()
        return times

    def wait(self, username: str, address: str, now: dt.datetime) -> dt.timedelta | None:
        """How long this attempt must wait, or ``None`` if it may go ahead."""
        waits = []
        for key, limit in (
            (f"name:{username.lower()}", self.per_name),
            (f"addr:{address}", self.per_address),
        ):
            times = self._recent(key, now)
            if len(times) >= limit:
                waits.append(times[0] + self.window - now)
        return max(waits) if waits else None

    def failed(self, username: str, address: str, now: dt.datetime) -> None:
        for key in (f"name:{username.lower()}", f"addr:{address}"):
            self._failures.setdefault(key, deque()).append(now)

    def succeeded(self, username: str) -> None:
        self._failures.pop(f"name:{username.lower()}", None)
