"""A recorder process for the crash test: feeds the test media into a writer in real time and
says on stdout how far it got, until it is killed. ``python -m tests.recordings.kill_child
SOURCE OUT``."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from recordings.writer import TrackWriter
from tests.recordings.feeding import TRACKS, session_clock, to_encoded
from tests.recordings.media import SECONDS, demux


def main(source: Path, out: Path) -> None:
    """Feed the frames of ``source`` into a writer of ``out`` at the pace they were recorded,
    looping the source; print ``fed <media seconds>`` after each frame batch of a tenth of a second."""
    frames = demux(source)
    clock = session_clock()
    writer = TrackWriter(out, TRACKS)
    writer.start()
    began = time.monotonic()
    loop = 0
    reported = 0.0
    while True:
        for frame in frames:
            at = loop * SECONDS + frame.seconds
            delay = began + at - time.monotonic()
            if delay > 0:
                time.sleep(delay)  # a live source: frames come at their own pace
            writer.write(to_encoded(clock, frame, loop_offset=loop * SECONDS))
            if at - reported >= 0.1:
                reported = at
                print(f"fed {at:.3f}", flush=True)
        loop += 1


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
