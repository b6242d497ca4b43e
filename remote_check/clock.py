"""Time: one clock to read, and the project's time zone.

Code asks a :class:`Clock` for the time instead of calling ``datetime.now`` so that tests
control time instead of waiting for it.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


class Clock(Protocol):
    def now(self) -> dt.datetime:
        """The current instant, timezone-aware."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)


class FixedClock:
    """A clock that moves only when told to (for tests and reproducible demos)."""

    def __init__(self, start: dt.datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self._now = start

    def now(self) -> dt.datetime:
        return self._now

    def advance(self, delta: dt.timedelta) -> None:
        self._now += delta

    def set(self, instant: dt.datetime) -> None:
        if instant.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self._now = instant


def local(instant: dt.datetime, tz: dt.tzinfo = SHANGHAI) -> dt.datetime:
    """``instant`` in the display time zone (Asia/Shanghai by default)."""
    return instant.astimezone(tz)


def format_local(instant: dt.datetime | None, tz: dt.tzinfo = SHANGHAI) -> str:
    if instant is None:
        return ""
    return local(instant, tz).strftime("%Y-%m-%d %H:%M")
