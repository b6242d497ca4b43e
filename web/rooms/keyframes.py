"""Throttling keyframe requests sent to a publisher.

Every subscriber that starts, loses a picture or joins asks for a keyframe; a publisher asked
too often spends its bitrate on keyframes. A request is sent at once unless one was sent less
than ``gap`` ago; while a requested keyframe has not arrived, further requests wait for it (it
serves them all) and only ``interval`` after the last request is it asked for again, in case the
request or the keyframe was lost. Requests that must wait merge into one scheduled request, so
that none is lost, and a keyframe that arrives first makes the scheduled one unnecessary.
"""

from __future__ import annotations

from dataclasses import dataclass

KEYFRAME_GAP = 0.2
"""The least time between two requests once the last one was answered: people joining one after
another each get their first picture within this, at most five keyframes a second."""


@dataclass
class KeyframeThrottle:
    """When to send the next keyframe request (times in seconds, from the caller's clock)."""

    interval: float
    gap: float = KEYFRAME_GAP
    last_sent: float | None = None
    pending: bool = False
    answered: bool = True

    def request(self, now: float) -> float | None:
        """A subscriber wants a keyframe: the delay before sending (0 means at once), or
        ``None`` when a request is already scheduled and will serve this one too."""
        if self.pending:
            return None
        wait = self.gap if self.answered else self.interval
        if self.last_sent is None or now - self.last_sent >= wait:
            self.last_sent = now
            self.answered = False
            return 0.0
        self.pending = True
        return self.last_sent + wait - now

    def fired(self, now: float) -> None:
        """The scheduled request was sent."""
        self.pending = False
        self.last_sent = now
        self.answered = False

    def keyframe_arrived(self) -> bool:
        """A keyframe came from the publisher; it serves every request made so far. True when
        a scheduled request is no longer needed (the caller cancels it)."""
        self.answered = True
        cancelled, self.pending = self.pending, False
        return cancelled
