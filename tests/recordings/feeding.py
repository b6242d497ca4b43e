"""Feeding a writer as the room will: RTP timestamps from random origins (one near the 32-bit
wrap), placed on the session clock, then queued as encoded frames."""

from __future__ import annotations

from recordings.clock import SessionClock
from recordings.writer import EncodedFrame, TrackSpec
from tests.recordings.media import SourceFrame

ORIGIN = 1_800_000_000.0
START = 0.25  # the participant's first packet reaches the server 0.25 s into the session
BASES = {"video": (1 << 32) - 90_000 * 2, "audio": 987_654}  # the video wraps 2 s in
TRACKS = [TrackSpec("cam", "video", 640, 360), TrackSpec("mic", "audio")]
NAMES = {"video": "cam", "audio": "mic"}


def session_clock() -> SessionClock:
    """A session clock with the participant's camera and microphone."""
    clock = SessionClock(ORIGIN)
    for kind, name in NAMES.items():
        clock.add_track(name, kind, sender="alice")
    return clock


def to_encoded(clock: SessionClock, frame: SourceFrame, loop_offset: float = 0.0) -> EncodedFrame:
    """The frame as the room hands it to the recorder (arrival = capture time + 0.25 s)."""
    rate = 90_000 if frame.kind == "video" else 48_000
    rtp = (BASES[frame.kind] + frame.rtp + round(loop_offset * rate)) % (1 << 32)
    arrival = ORIGIN + START + loop_offset + frame.seconds
    stamp = clock.stamp(NAMES[frame.kind], rtp, arrival)
    return EncodedFrame(NAMES[frame.kind], frame.data, stamp.session_time, frame.keyframe)
