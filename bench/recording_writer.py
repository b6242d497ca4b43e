"""Benchmark: CPU cost of recording one participant (640x360 25 fps VP8 + Opus, stream copy).

Run ``.venv/bin/python bench/recording_writer.py [--seconds N] [--participants P]``. Encodes 5 s
of test media once with ffmpeg, then feeds it (looped) in real time into P writers, as a room
would, for N seconds. Prints the CPU time of each writer thread (all muxing and file I/O) and of
the feeding side (session clock + ``write()``, what runs on the event loop), as percent of one core
per participant. Target (issue 4): under 0.5 % of a core per participant.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from recordings.writer import TrackWriter
from tests.recordings.feeding import TRACKS, session_clock, to_encoded
from tests.recordings.media import SECONDS, demux, make_source, probe

TARGET_PERCENT = 0.5


def run(seconds: float, participants: int, folder: Path) -> None:
    """Feed ``participants`` writers for ``seconds`` of real time and print the costs."""
    frames = demux(make_source(folder))
    clocks = [session_clock() for _ in range(participants)]
    writers = [TrackWriter(folder / f"p{n}.webm", TRACKS) for n in range(participants)]
    for writer in writers:
        writer.start()
    feeding = stamping = 0.0
    began = time.monotonic()
    loop = 0
    while loop * SECONDS < seconds:
        for frame in frames:
            at = loop * SECONDS + frame.seconds
            if at >= seconds:
                break
            delay = began + at - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            start = time.thread_time()
            encoded = [to_encoded(clock, frame, loop_offset=loop * SECONDS) for clock in clocks]
            stamped = time.thread_time()
            for item, writer in zip(encoded, writers, strict=True):
                writer.write(item)
            stamping += stamped - start
            feeding += time.thread_time() - stamped
        loop += 1
    for writer in writers:
        writer.close(timeout=30)
    wall = time.monotonic() - began
    muxing = [w.stats.cpu_seconds for w in writers]
    per_participant = 100 * sum(muxing) / participants / wall
    feed_percent = 100 * feeding / participants / wall
    print(f"fed {seconds:.0f} s of 640x360 25 fps VP8 + Opus to {participants} writer(s) in {wall:.1f} s")
    cpu_ms = sum(muxing) / participants * 1000
    print(f"writer thread CPU: {cpu_ms:.1f} ms per participant = {per_participant:.3f} % of a core")
    stamp_percent = 100 * stamping / participants / wall
    print(f"write() on the loop: {feed_percent:.3f} % of a core per participant")
    print(f"session clock stamps (+ the test's own frame building): {stamp_percent:.3f} %")
    print(f"writer thread + write(): {per_participant + feed_percent:.3f} % (target < {TARGET_PERCENT} %)")
    found = probe(folder / "p0.webm")
    print(f"p0.webm: {found.codecs}, ends {found.ends}, dropped {writers[0].stats.dropped}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--participants", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        run(args.seconds, args.participants, Path(folder))


if __name__ == "__main__":
    main()
