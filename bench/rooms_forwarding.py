"""Benchmark: what forwarding costs the server, for rooms of N synthetic participants.

Run from the repository root: ``.venv/bin/python -m bench.rooms_forwarding [--sizes 2,6,12]
[--seconds 10] [--screen] [--rooms K] [--workers W]``. It encodes a 640x480 30 fps VP8 clip,
a 1280x720 15 fps VP8 screen clip and an Opus tone once with ffmpeg (kept in ``--cache``),
starts the real app in a server process (development room routes on; with ``--workers W``
its rooms run in W media worker processes, ``media.workers``), then for each N joins K
rooms of N aiortc clients (in this process) that send the pre-encoded media and count what
they receive (with ``--screen`` the first client of each room also shares its screen), and
prints:

- server CPU: percent of one core used by the server process and its media workers over the
  measured window (the split between them after the table row), and per room;
- per forwarded stream: that CPU divided by the streams forwarded (N*(N-1) video + as many
  audio, plus N-1 screen streams);
- delivered fps: video frames received per second on each receiving camera slot (mean and
  minimum; the clip is 30 fps) and on each screen slot (the clip is 15 fps);
- offer to first frame: for each pair of participants, from the later of their first offers
  until the first camera frame of one reached the other (median and maximum over the pairs);
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

from bench.light_receivers import LightReceivers
from media.internals import include_loopback_candidates, install_passthrough
from tests.rooms.synthetic import SCREEN_FPS, Changes, EncodedClip, ScreenSharer, SyntheticClient, load_clip

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
FFMPEG = shutil.which("ffmpeg") or "/usr/bin/ffmpeg"


@dataclass(frozen=True)
class Camera:
    """What each synthetic camera sends: ``640x360@25:600`` (width x height @ fps : kbps)."""

    width: int
    height: int
    fps: int
    kbps: int

    @classmethod
    def parse(cls, text: str) -> Camera:
        size, _, rest = text.partition("@")
        fps, _, kbps = rest.partition(":")
        width, _, height = size.partition("x")
        return cls(int(width), int(height), int(fps), int(kbps))

    def __str__(self) -> str:
        return f"{self.width}x{self.height} {self.fps} fps {self.kbps} kbps"


def make_clip(cache: Path, camera: Camera, seconds: int = 10) -> EncodedClip:
    """Encode the camera clip (``testsrc2``, camera-like motion) and an Opus tone with ffmpeg once."""
    cache.mkdir(parents=True, exist_ok=True)
    name = f"clip-{camera.width}x{camera.height}-{camera.fps}-{camera.kbps}k.ivf"
    video, audio = cache / name, cache / "tone.ogg"
    source = ["-f", "lavfi", "-i"]
    if not video.exists():
        pattern = f"testsrc2=size={camera.width}x{camera.height}:rate={camera.fps}:duration={seconds}"
        bitrate = f"{camera.kbps}k"
        vp8 = ["-c:v", "libvpx", "-b:v", bitrate, "-g", "300", "-deadline", "realtime", "-cpu-used", "8"]
        _ffmpeg([*source, pattern, *vp8, str(video)])
    if not audio.exists():
        tone = f"sine=frequency=440:sample_rate=48000:duration={seconds}"
        _ffmpeg([*source, tone, "-c:a", "libopus", "-b:a", "32k", "-frame_duration", "20", str(audio)])
    return load_clip(str(video), str(audio), camera.fps)


def make_screen_clip(cache: Path, seconds: int = 10, fps: int = SCREEN_FPS, kbps: int = 1500) -> list[bytes]:
    """Encode a screen-share clip once: 1280x720 at ``fps`` (15), ``kbps`` (1.5 Mbps) VP8 (sharp,
    slow-moving)."""
    cache.mkdir(parents=True, exist_ok=True)
    video = cache / (
        "screen-1280x720-15fps.ivf"
        if (fps, kbps) == (SCREEN_FPS, 1500)
        else f"screen-1280x720-{fps}fps-{kbps}k.ivf"
    )
    if not video.exists():
        pattern = f"testsrc2=size=1280x720:rate={fps}:duration={seconds}"
        vp8 = ["-c:v", "libvpx", "-b:v", f"{kbps}k", "-g", "300", "-deadline", "realtime", "-cpu-used", "8"]
        _ffmpeg(["-f", "lavfi", "-i", pattern, *vp8, str(video)])
    return load_clip(str(video), str(cache / "tone.ogg")).video


def _ffmpeg(arguments: list[str]) -> None:
    subprocess.run([FFMPEG, "-v", "error", "-y", *arguments], check=True)  # noqa: S603


def serve(port: int, workers: int | None, max_room_size: int | None = None) -> None:
    """The server process: the real app with the development room routes (its rooms in
    ``workers`` media worker processes when given; rooms of up to ``max_room_size`` people when
    given, otherwise the product's default)."""
    from remote_check.settings import Settings
    from web.app import create_app

    data = Path(tempfile.mkdtemp(prefix="rc-bench-"))
    settings = Settings(
        data_dir=data, rooms_dev_routes=True, rooms_loopback_candidates=True, media_workers=workers
    )
    if max_room_size is not None:
        settings = settings.model_copy(update={"max_room_size": max_room_size})

    async def ready(_app: web.Application) -> None:
        print("ready", flush=True)

    app = create_app(settings)  # its room host: media_workers=workers
    app.on_startup.append(ready)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process, all threads."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def process_tree(pid: int) -> list[int]:
    """The process and its children (the media workers)."""
    children = [
        int(c)
        for task in Path(f"/proc/{pid}/task").iterdir()
        for c in (task / "children").read_text().split()
    ]
    return [pid, *children]


@dataclass
class Result:
    size: int
    rooms: int
    server_cpu: float
    split: list[float]
    per_stream: float
    fps_mean: float
    fps_min: float
    screen_fps_mean: float | None
    screen_fps_min: float | None
    first_frame_median: float
    first_frame_max: float
    client_cpu: float


def _source(client: SyntheticClient, mid: str) -> str:
    return str(client.slot_info.get(mid, {}).get("source", ""))


async def run_rooms(
    base: str,
    size: int,
    rooms: int,
    clip: EncodedClip,
    screen: list[bytes] | None,
    server_pid: int,
    seconds: float,
    light: LightReceivers | None,
) -> Result:
    """Join ``rooms`` rooms of ``size`` clients, wait until everyone receives everyone, then measure."""
    changes = light.changes if light is not None else Changes()
    groups: list[list[SyntheticClient]] = []
    for r in range(rooms):
        url = f"{base}/rooms/bench-{size}-{r}/ws"
        first: SyntheticClient = (
            ScreenSharer(url, "client-0", clip, screen, changes)
            if screen is not None
            else SyntheticClient(url, "client-0", clip, changes=changes)
        )
        others = [SyntheticClient(url, f"client-{i}", clip, changes=changes) for i in range(1, size)]
        groups.append([first, *others])
    clients = [c for group in groups for c in group]
    if light is not None:
        light.clients = clients
    try:
        for client in clients:
            await client.join()

        def everyone_receives() -> bool:
            for group in groups:
                for c in group:
                    for o in group:
                        if o is not c and not ((got := c.from_participant(o.id, "video")) and got.frames > 0):
                            return False
                    screens = [r for mid, r in c.received.items() if _source(c, mid) == "screen"]
                    if screen is not None and c is not group[0] and not any(r.frames > 0 for r in screens):
                        return False
            return True

        await changes.until(everyone_receives, seconds=90, what="every client to receive every other")
        first_frames = []
        for group in groups:
            for client in group:
                for other in group:
                    got = client.from_participant(other.id, "video")
                    if other is not client and got is not None and got.first_at is not None:
                        assert client.offered_at is not None
                        assert other.offered_at is not None
                        first_frames.append(got.first_at - max(client.offered_at, other.offered_at))

        def video_frames() -> dict[tuple[int, str], tuple[str, int]]:
            return {
                (id(c), mid): (_source(c, mid), r.frames)
                for c in clients
                for mid, r in c.received.items()
                if r.kind == "video"
            }

        pids = process_tree(server_pid)
        before, server_before = video_frames(), [cpu_seconds(pid) for pid in pids]
        client_before, wall_before = time.process_time(), time.perf_counter()
        await asyncio.sleep(seconds)
        wall = time.perf_counter() - wall_before
        split = [(cpu_seconds(pid) - b) / wall for pid, b in zip(pids, server_before, strict=True)]
        client_cpu = (time.process_time() - client_before) / wall
        after = video_frames()
        rates: dict[str, list[float]] = {"camera": [], "screen": []}
        for key, (source, frames) in after.items():
            if source in rates:
                rates[source].append((frames - before.get(key, (source, 0))[1]) / wall)
        server = sum(split)
        streams = rooms * (2 * size * (size - 1) + (size - 1 if screen is not None else 0))
        return Result(
            size,
            rooms,
            server,
            split,
            server / streams,
            statistics.mean(rates["camera"]),
            min(rates["camera"]),
            statistics.mean(rates["screen"]) if rates["screen"] else None,
            min(rates["screen"]) if rates["screen"] else None,
            statistics.median(first_frames),
            max(first_frames),
            client_cpu,
        )
    finally:
        for client in clients:
            await client.close()


@dataclass(frozen=True)
class Options:
    """How to run: cameras (``large_camera`` in rooms of more than ``LARGE_ROOM`` people, as the
    room page does), light receivers, the server pinned to core 0 and the clients to core 1."""

    camera: Camera
    large_camera: Camera
    rooms: int
    screen: bool
    workers: int | None
    light: bool
    pin: bool


LARGE_ROOM = 6  # web/static/rooms/session.js: cameras get smaller above this many people


def pin(pid: int, core: int) -> None:
    """Every thread of a process (and its children's) on one core."""
    for process in process_tree(pid):
        for task in Path(f"/proc/{process}/task").iterdir():
            os.sched_setaffinity(int(task.name), {core})


async def bench(sizes: list[int], seconds: float, cache: Path, port: int, options: Options) -> list[Result]:
    """Start the server process, run each room size in turn, stop the server."""
    install_passthrough()
    include_loopback_candidates()
    clips = {
        size: make_clip(cache, options.large_camera if size > LARGE_ROOM else options.camera)
        for size in sizes
    }
    screen_clip = make_screen_clip(cache) if options.screen else None
    light = LightReceivers(Changes()) if options.light else None
    if light is not None:
        light.install()
    workers, rooms = options.workers, options.rooms
    command = [sys.executable, "-m", "bench.rooms_forwarding", "--serve", str(port)]
    if workers is not None:
        command += ["--workers", str(workers)]
    server = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.PIPE, stderr=(cache / "server.log").open("w")
    )
    try:
        assert server.stdout is not None
        line = await asyncio.wait_for(server.stdout.readline(), 30)
        assert line.strip() == b"ready", line
        if options.pin:
            pin(server.pid, 0)
            pin(os.getpid(), 1)
        idle_before, wall = cpu_seconds(server.pid), time.perf_counter()
        await asyncio.sleep(2)
        idle = (cpu_seconds(server.pid) - idle_before) / (time.perf_counter() - wall)
        where = "in the server process" if workers is None else f"in {workers} media worker processes"
        print(f"server idle: {idle:.1%} of one core; rooms {where}; log in {cache / 'server.log'}")
        print(
            f"cameras: {options.camera} (rooms of more than {LARGE_ROOM}: {options.large_camera});"
            f" screen: 1280x720 {SCREEN_FPS} fps 1500 kbps; Opus 32 kbps 20 ms;"
            f" receivers: {'light (count only)' if light else 'full aiortc'};"
            f" {'server on core 0, clients on core 1' if options.pin else 'not pinned'}"
        )
        print(HEADER, flush=True)
        results = []
        for size in sizes:
            result = await run_rooms(
                f"http://127.0.0.1:{port}", size, rooms, clips[size], screen_clip, server.pid, seconds, light
            )
            results.append(result)
            print(report_line(result), flush=True)
        return results
    finally:
        server.terminate()
        await server.wait()


HEADER = (
    "   N  rooms  server CPU  per room  per fwd stream  camera fps mean/min  screen fps mean/min"
    "  offer->first frame (median/max)  client CPU"
)


def report_line(r: Result) -> str:
    """One row of the table, then the server CPU by process (web process first)."""
    screen = "-" if r.screen_fps_mean is None else f"{r.screen_fps_mean:.1f} / {r.screen_fps_min:.1f}"
    split = " + ".join(f"{cpu:.1%}" for cpu in r.split)
    return (
        f"{r.size:>4}  {r.rooms:>5}  {r.server_cpu:>9.1%}  {r.server_cpu / r.rooms:>8.1%}"
        f"  {r.per_stream:>13.2%}"
        f"  {r.fps_mean:>10.1f} / {r.fps_min:.1f}  {screen:>19}"
        f"  {r.first_frame_median:>14.2f} s / {r.first_frame_max:.2f} s  {r.client_cpu:>10.1%}"
        f"\n      server CPU by process (web, workers...): {split}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="2,6,12", help="room sizes, comma-separated")
    parser.add_argument("--seconds", type=float, default=10.0, help="measured window per room")
    parser.add_argument("--rooms", type=int, default=1, help="rooms of each size at once")
    parser.add_argument("--screen", action="store_true", help="the first of each room shares a screen")
    parser.add_argument("--workers", type=int, help="run the rooms in this many media worker processes")
    parser.add_argument("--camera", type=Camera.parse, default=Camera(640, 360, 30, 600), help="WxH@fps:kbps")
    parser.add_argument(
        "--large-camera", type=Camera.parse, default=Camera(320, 180, 30, 250), help="cameras in large rooms"
    )
    parser.add_argument("--full-receivers", action="store_true", help="clients receive through aiortc fully")
    parser.add_argument(
        "--pin", action="store_true", help="server (and workers) on core 0, clients on core 1"
    )
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "rc-bench-clips")
    parser.add_argument("--port", type=int, default=18090)
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.workers)
        return
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    sizes = [int(n) for n in args.sizes.split(",")]
    options = Options(
        args.camera,
        args.large_camera,
        args.rooms,
        args.screen,
        args.workers,
        not args.full_receivers,
        args.pin,
    )
    run = bench(sizes, args.seconds, args.cache, args.port, options)
    asyncio.run(run)
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
