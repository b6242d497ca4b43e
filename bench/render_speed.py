"""Benchmark: render speed of the replay file, as a multiple of real time.

Run ``.venv/bin/python -m bench.render_speed [--minutes N]`` (default 3; the issue's figure is
``--minutes 30``). Makes a recording part with ffmpeg (not timed): 4 cameras (640x360 25 fps VP8,
each with its Opus voice, joining 0.5 s apart) and a screen share for the whole session (1280x720
VP8 at ``--screen-fps``, default 10): ``--screen slides`` (default) is a picture that changes once
a second, like a document being scrolled; ``--screen animated`` changes every frame (the worst
case). Then renders it with :func:`recordings.render.render_part` and prints the render time, the
multiple of real time, and the CPU time ffmpeg used (the wall-clock figure depends on what else
the machine runs; the CPU figure much less). Target (issue 4): 3x real time or faster for 30
minutes.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from recordings.render import FFMPEG, render_part

TARGET = 3.0
CAMERAS = 4


def _encode(path: Path, seconds: float, video: str, audio: bool) -> None:
    argv = [FFMPEG, "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc2={video}"]
    if audio:
        argv += ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"]
    argv += ["-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "16", "-b:v", "500k", "-g", "250"]
    if audio:
        argv += ["-c:a", "libopus", "-b:a", "32k"]
    subprocess.run([*argv, "-t", f"{seconds:.3f}", str(path)], check=True)  # noqa: S603 - fixed arguments


def _shift(source: Path, target: Path, offset: float) -> None:
    """A copy of ``source`` whose timestamps start at ``offset`` (stream copy, no encoding)."""
    subprocess.run(  # noqa: S603 - fixed arguments
        [FFMPEG, "-v", "error", "-y", "-i", str(source), "-c", "copy", "-output_ts_offset", str(offset),
         str(target)],
        check=True,
    )  # fmt: skip


def make_part(folder: Path, seconds: float, screen_fps: int, screen: str = "slides") -> Path:
    """A recording part of ``seconds``: the cameras (with voices) and a screen share."""
    part = folder / "part"
    part.mkdir()
    camera = folder / "camera.webm"
    _encode(camera, seconds, "size=640x360:rate=25", True)
    for n in range(CAMERAS):
        _shift(camera, part / f"p{n}-camera.webm", n * 0.5)
    rate = f"rate=1,fps={screen_fps}" if screen == "slides" else f"rate={screen_fps}"
    _encode(part / "p0-screen.webm", seconds, f"size=1280x720:{rate}", False)
    return part


async def _render(part: Path, output: Path) -> float:
    fractions: list[float] = []

    async def progress(fraction: float) -> None:
        fractions.append(fraction)

    started = time.perf_counter()
    await render_part(part, output, progress=progress)
    elapsed = time.perf_counter() - started
    assert fractions[-1] == 1.0
    return elapsed


def main() -> None:
    """Make the media, render it, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--screen-fps", type=int, default=10)
    parser.add_argument("--screen", choices=["slides", "animated"], default="slides")
    args = parser.parse_args()
    seconds = args.minutes * 60
    folder = Path(tempfile.mkdtemp(prefix="render-bench-"))
    try:
        started = time.perf_counter()
        part = make_part(folder, seconds, args.screen_fps, args.screen)
        print(f"made {args.minutes:g} min of media in {time.perf_counter() - started:.1f} s (not counted)")
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        elapsed = asyncio.run(_render(part, folder / "replay.mp4"))
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        cores = os.cpu_count() or 1
        size = (folder / "replay.mp4").stat().st_size / 1e6
        multiple = (seconds + 0.5 * (CAMERAS - 1)) / elapsed
        print(
            f"render: {args.minutes:g} min, {CAMERAS} cameras 640x360 25 fps + screen 1280x720 "
            f"{args.screen_fps} fps ({args.screen}) + {CAMERAS} voices"
            f" -> 1600x720 H.264 veryfast + AAC ({size:.1f} MB)"
        )
        verdict = "meets" if multiple >= TARGET else "misses"
        print(f"render time {elapsed:.1f} s = {multiple:.2f}x real time ({verdict} the {TARGET:g}x target)")
        print(
            f"ffmpeg CPU {cpu:.1f} s = {cpu / seconds:.2f} core-seconds per second of session; "
            f"with all {cores} cores to itself: about {seconds * cores / cpu:.2f}x real time"
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
