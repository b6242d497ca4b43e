"""Throttling keyframe requests sent to a publisher.

Every subscriber that starts, loses a picture or joins asks for a keyframe; a publisher asked
too often spends its bitrate on keyframes. Requests closer together than ``interval`` are merged
into one, sent when the interval has passed, so that no request is lost.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class KeyframeThrottle:
    """When to send the next keyframe request (times in seconds, from the caller's clock)."""

    interval: float
    last_sent: float | None = None
    pending: bool = False

    def request(self, now: float) -> float | None:
        """A subscriber wants a keyframe: the delay before sending (0 means at once), or
        ``None`` when a request is already scheduled and will serve this one too."""
        if self.pending:
            return None
        if self.last_sent is None or now - self.last_sent >= self.interval:
            self.last_sent = now
            return 0.0
        self.pending = True
        return self.last_sent + self.interval - now

    def fired(self, now: float) -> None:
        """The scheduled request was sent."""
        self.pending = False
        self.last_sent = now
