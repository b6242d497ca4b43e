"""Benchmark: what forwarding costs the server, for rooms of N synthetic participants.

Run from the repository root: ``.venv/bin/python -m bench.rooms_forwarding [--sizes 2,6,12]
[--seconds 10]``. It encodes a 640x480 VP8 clip and an Opus tone once with ffmpeg (kept in
``--cache``), starts the real app in a server process (development room routes on), then for
each N joins N aiortc clients (in this process) that send the pre-encoded media and count what
they receive, and prints:

- server CPU: percent of one core used by the server process over the measured window;
- per forwarded stream: that CPU divided by the streams forwarded (N*(N-1) video + as many audio);
- delivered fps: video frames received per second on each receiving slot (mean and minimum);
- offer to first frame: for each pair of participants, from the later of their first offers
  until the first video frame of one reached the other (median and maximum over the pairs);
- client CPU: this process (all clients), to tell which side saturated.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from tests.rooms.synthetic import Changes, EncodedClip, SyntheticClient, load_clip
from web.rooms.internals import include_loopback_candidates, install_passthrough

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
FFMPEG = shutil.which("ffmpeg") or "/usr/bin/ffmpeg"


def make_clip(cache: Path, seconds: int = 10) -> EncodedClip:
    """Encode the clip with ffmpeg once (camera-like size and rate: 640x480, 30 fps, 800 kbps)."""
    cache.mkdir(parents=True, exist_ok=True)
    video, audio = cache / "clip-640x480.ivf", cache / "tone.ogg"
    source = ["-f", "lavfi", "-i"]
    if not video.exists():
        pattern = f"testsrc2=size=640x480:rate=30:duration={seconds}"
        vp8 = ["-c:v", "libvpx", "-b:v", "800k", "-g", "300", "-deadline", "realtime", "-cpu-used", "8"]
        _ffmpeg([*source, pattern, *vp8, str(video)])
    if not audio.exists():
        tone = f"sine=frequency=440:sample_rate=48000:duration={seconds}"
        _ffmpeg([*source, tone, "-c:a", "libopus", "-b:a", "32k", "-frame_duration", "20", str(audio)])
    return load_clip(str(video), str(audio))


def _ffmpeg(arguments: list[str]) -> None:
    subprocess.run([FFMPEG, "-v", "error", "-y", *arguments], check=True)  # noqa: S603


def serve(port: int) -> None:
    """The server process: the real app with the development room routes."""
    from remote_check.settings import Settings
    from web.app import create_app

    data = Path(tempfile.mkdtemp(prefix="rc-bench-"))
    settings = Settings(data_dir=data, rooms_dev_routes=True, rooms_loopback_candidates=True)

    async def ready(_app: web.Application) -> None:
        print("ready", flush=True)

    app = create_app(settings)
    app.on_startup.append(ready)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process, all threads."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


@dataclass
class Result:
    size: int
    server_cpu: float
    per_stream: float
    fps_mean: float
    fps_min: float
    first_frame_median: float
    first_frame_max: float
    client_cpu: float


async def run_room(url: str, size: int, clip: EncodedClip, server_pid: int, seconds: float) -> Result:
    """Join ``size`` clients, wait until everyone receives everyone, then measure."""
    changes = Changes()
    clients = [SyntheticClient(url, f"client-{i}", clip, changes=changes) for i in range(size)]
    try:
        for client in clients:
            await client.join()

        def everyone_receives() -> bool:
            return all(
                (got := c.from_participant(o.id, "video")) is not None and got.frames > 0
                for c in clients
                for o in clients
                if o is not c
            )

        await changes.until(everyone_receives, seconds=60, what="every client to receive every other")
        first_frames = []
        for client in clients:
            for other in clients:
                got = client.from_participant(other.id, "video")
                if other is not client and got is not None and got.first_at is not None:
                    assert client.offered_at is not None
                    assert other.offered_at is not None
                    first_frames.append(got.first_at - max(client.offered_at, other.offered_at))

        frames_before = {
            (id(c), mid): r.frames for c in clients for mid, r in c.received.items() if r.kind == "video"
        }
        server_before, client_before, wall_before = (
            cpu_seconds(server_pid),
            time.process_time(),
            time.perf_counter(),
        )
        await asyncio.sleep(seconds)
        wall = time.perf_counter() - wall_before
        server = (cpu_seconds(server_pid) - server_before) / wall
        client_cpu = (time.process_time() - client_before) / wall
        rates = [
            (r.frames - frames_before.get((id(c), mid), 0)) / wall
            for c in clients
            for mid, r in c.received.items()
            if r.kind == "video"
        ]
        streams = 2 * size * (size - 1)
        return Result(
            size,
            server,
            server / streams,
            statistics.mean(rates),
            min(rates),
            statistics.median(first_frames),
            max(first_frames),
            client_cpu,
        )
    finally:
        for client in clients:
            await client.close()


async def bench(sizes: list[int], seconds: float, cache: Path, port: int) -> list[Result]:
    """Start the server process, run each room size in turn, stop the server."""
    install_passthrough()
    include_loopback_candidates()
    clip = make_clip(cache)
    server = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.rooms_forwarding",
        "--serve",
        str(port),
        stdout=asyncio.subprocess.PIPE,
        stderr=(cache / "server.log").open("w"),
    )
    try:
        assert server.stdout is not None
        line = await asyncio.wait_for(server.stdout.readline(), 30)
        assert line.strip() == b"ready", line
        idle_before, wall = cpu_seconds(server.pid), time.perf_counter()
        await asyncio.sleep(2)
        idle = (cpu_seconds(server.pid) - idle_before) / (time.perf_counter() - wall)
        frames = f"{len(clip.video)} video, {len(clip.audio)} audio frames"
        print(f"server idle: {idle:.1%} of one core; clip of {frames}; server log in {cache / 'server.log'}")
        results = []
        for size in sizes:
            url = f"http://127.0.0.1:{port}/rooms/bench-{size}/ws"
            result = await run_room(url, size, clip, server.pid, seconds)
            results.append(result)
            print(report_line(result), flush=True)
        return results
    finally:
        server.terminate()
        await server.wait()


HEADER = "   N  server CPU  per fwd stream  fps mean  fps min  offer->first frame (median/max)  client CPU"


def report_line(r: Result) -> str:
    """One row of the table."""
    return (
        f"{r.size:>4}  {r.server_cpu:>9.1%}  {r.per_stream:>13.2%}  {r.fps_mean:>8.1f}  {r.fps_min:>7.1f}"
        f"  {r.first_frame_median:>14.2f} s / {r.first_frame_max:.2f} s  {r.client_cpu:>12.1%}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="2,6,12", help="room sizes, comma-separated")
    parser.add_argument("--seconds", type=float, default=10.0, help="measured window per room")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "rc-bench-clips")
    parser.add_argument("--port", type=int, default=18090)
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    print(HEADER)
    asyncio.run(bench([int(n) for n in args.sizes.split(",")], args.seconds, args.cache, args.port))
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
