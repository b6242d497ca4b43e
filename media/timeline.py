"""One continuous timeline per subscriber slot, whichever publisher feeds it.

A slot (one receiving m-line of a subscriber) is reused when a publisher leaves and another
arrives. Each source counts its timestamps from its own origin; the receiving browser would
treat a jump backwards as late frames and drop them. The timeline keeps the timestamps the
subscriber sees increasing: a new source is placed one frame after the last one sent.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Timeline:
    """Maps source timestamps (in RTP clock ticks) to the slot's increasing timestamps."""

    step: int
    last: int | None = None
    offset: int | None = None

    def switch(self) -> None:
        """The slot now carries another source: anchor again at its next timestamp."""
        self.offset = None

    def map(self, pts: int) -> int:
        """The slot timestamp of a source timestamp; never at or before the previous one,
        except for frames that share a timestamp in the source (they keep sharing it)."""
        if self.offset is None:
            target = 0 if self.last is None else self.last + self.step
            self.offset = target - pts
        out = pts + self.offset
        if self.last is not None and out < self.last:
            # the source went back in time (it restarted): continue after the last one
            self.offset = self.last + self.step - pts
            out = self.last + self.step
        self.last = out
        return out
