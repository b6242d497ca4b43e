"""Throttling keyframe requests sent to a publisher.

Every subscriber that starts, loses a picture or joins asks for a keyframe; a publisher asked
too often spends its bitrate on keyframes. A request is sent at once unless one was sent less
than ``gap`` ago. While a requested keyframe has not arrived, later requests wait for it (it
serves them all); if it has not come ``interval`` after the request, the request is sent again
(a few times: the request or the keyframe may have been lost, or the browser ignored it, as
Chromium does with requests less than 300 ms after the last one it acted on). Requests within the
gap after an answered one merge into one scheduled request, which a keyframe arriving first makes
unnecessary.
"""

from __future__ import annotations

from dataclasses import dataclass

KEYFRAME_GAP = 0.35
"""The least time between two requests once the last one was answered: people joining one after
another each get their first picture within this. Chromium ignores a request that comes less
than 300 ms after the last one it acted on (libwebrtc's minimum keyframe send interval)."""

RESENDS = 4
"""How many times an unanswered request is sent again before the next subscriber asks anew."""


@dataclass
class KeyframeThrottle:
    """When to send keyframe requests (times in seconds, from the caller's clock)."""

    interval: float
    gap: float = KEYFRAME_GAP
    last_sent: float | None = None
    pending: bool = False
    answered: bool = True
    resent: int = 0

    def request(self, now: float) -> float | None:
        """A subscriber wants a keyframe: the delay before sending (0 means at once), or
        ``None`` when a request already sent or scheduled will serve this one too."""
        if self.pending:
            return None
        due = self.gap if self.answered else self.interval
        if self.last_sent is None or now - self.last_sent >= due:
            self._sent(now)
            return 0.0
        if not self.answered:
            return None
        self.pending = True
        return self.last_sent + self.gap - now

    def fired(self, now: float) -> None:
        """The scheduled request was sent."""
        self.pending = False
        self._sent(now)

    def resend(self, now: float) -> bool:
        """``interval`` has passed since the last request: whether to send it again (its keyframe
        has not come, and it has not been sent again too often)."""
        if self.answered or self.resent >= RESENDS:
            return False
        self.resent += 1
        self.last_sent = now
        return True

    def keyframe_arrived(self) -> bool:
        """A keyframe came from the publisher; it serves every request made so far. True when
        a scheduled request is no longer needed (the caller cancels it)."""
        self.answered = True
        cancelled, self.pending = self.pending, False
        return cancelled

    def _sent(self, now: float) -> None:
        self.last_sent = now
        self.answered = False
        self.resent = 0
