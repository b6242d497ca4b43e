"""Benchmark: the province's training meeting (issue 13) in one room of today's server: one
speaker to N receive-only receivers.

Run from the repository root: ``.venv/bin/python -m bench.training [--sizes 30,60,120,250]
[--seconds 15] [--workers 1] [--per-child 40]``. It encodes once with ffmpeg (kept in ``--cache``)
a 640x360 30 fps VP8 camera, 1280x720 slides at 5 fps and an Opus tone, and starts the real app
in a server process (development room routes, rooms in ``--workers`` media worker processes,
rooms of up to ``--room-size`` people: a bench-only setting, the product's default is 12). For
each N, in a fresh room:

- the speaker (this process) joins and publishes camera, slides (as a screen share) and voice;
- N receivers join, in child processes of ``--per-child`` each: synthetic aiortc clients that
  publish nothing and count what arrives at the RTP level (``bench.light_receivers``, no decoding);
- once every receiver has camera and slides frames, a window of ``--seconds`` is measured: the
  CPU seconds per wall second of the media worker processes (and of the web process, apart),
  that divided by N, and the slowest receiver's camera, slides and voice rates;
- then ``--late`` late joiners come, one after another (in this process), each timed from its
  socket's opening to its first slides frame.

Everything is bounded: joining by ``--join-seconds``, the first frames by 90 s; a size that does
not fill is reported as such and the larger ones are skipped.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import logging
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.light_receivers import LightReceivers
from bench.rooms_forwarding import Camera, cpu_seconds, make_clip, make_screen_clip, process_tree
from bench.rooms_forwarding import serve as serve_app
from bench.training_receivers import NOTHING, Child, counts
from media.internals import include_loopback_candidates, install_passthrough
from tests.rooms.synthetic import Changes, EncodedClip, ScreenSharer, SyntheticClient

SLIDES_FPS = 5
SLIDES_KBPS = 800
CAMERA = Camera(640, 360, 30, 600)
TARGET_CAMERA_FPS = 25.0
TARGET_SHARE = 0.003  # of a core per receiver
TARGET_LATE = 1.5


def udp_drops(pids: list[int]) -> tuple[int, int]:
    """Datagrams the kernel dropped (a full receive buffer) on the UDP sockets of ``pids``, and on
    every other UDP socket of this machine (the receivers', the speaker's)."""
    inodes = set()
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    ours = others = 0
    for line in Path("/proc/net/udp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[9] in inodes:
            ours += int(fields[12])
        else:
            others += int(fields[12])
    return ours, others


@dataclass
class Row:
    """One room size's figures."""

    size: int
    joined: int
    join_seconds: float
    workers_cpu: float
    web_cpu: float
    camera_min: float
    camera_mean: float
    slides_min: float
    audio_min: float
    late: list[float]
    clients_cpu: float
    load: float
    speaker: str  # the speaker's connection at the end of the window ("connected")
    drops: int  # datagrams dropped on the workers' UDP sockets by the end of the window

    @property
    def per_receiver(self) -> float:
        return self.workers_cpu / max(self.joined, 1)


async def late_joiner(url: str, name: str, bound: float) -> float:
    """Seconds from a receiver's socket opening to its first slides frame."""
    changes = Changes()
    light = LightReceivers(changes)
    client = SyntheticClient(url, name, NOTHING, changes=changes)
    light.clients = [client]
    light.install()
    began = time.perf_counter()
    try:
        await client.join(publish=False)

        def slides_first() -> float | None:
            for mid, received in client.received.items():
                if client.slot_info.get(mid, {}).get("source") == "screen" and received.first_at:
                    return received.first_at
            return None

        await changes.until(lambda: slides_first() is not None, seconds=bound, what="a slides frame")
        first = slides_first()
        assert first is not None
        return first - began
    finally:
        await client.close()


async def run_size(
    base: str, size: int, args: argparse.Namespace, clip: EncodedClip, slides: list[bytes], server: int
) -> Row | None:
    """One room of one speaker and ``size`` receivers; its row (None: the room did not fill)."""
    url = f"{base}/rooms/training-{size}-{int(time.time())}/ws"
    changes = Changes()
    speaker = ScreenSharer(url, "speaker", clip, slides, changes, screen_fps=SLIDES_FPS)
    children: list[Child] = []
    try:
        await speaker.join()
        await changes.until(lambda: speaker.negotiated > 0, what="the speaker's negotiation")
        began = time.monotonic()
        pids = process_tree(server)
        join_cpu = [cpu_seconds(pid) for pid in pids]
        left, n = size, 0
        while left > 0:
            count = min(args.per_child, left)
            children.append(await Child.start(url, count, f"r{size}-{n}", args.parallel))
            left, n = left - count, n + 1
        joined = await asyncio.wait_for(
            asyncio.gather(*(child.line() for child in children)), args.join_seconds
        )
        join_seconds = time.monotonic() - began
        join_cpu = [(cpu_seconds(pid) - c) / join_seconds for pid, c in zip(pids, join_cpu, strict=True)]
        print(
            f"  while joining: web {join_cpu[0]:.0%}, workers {sum(join_cpu[1:]):.0%} of a core", flush=True
        )
        n_joined = sum(j["joined"] for j in joined)
        for j in joined:
            if j["failures"]:
                print(f"  join failures: {j['failures']}", flush=True)
        deadline = time.monotonic() + 90
        while True:
            _, _, clients, states = await counts(children)
            receiving = sum(1 for c in clients if c.get("camera", 0) > 0 and c.get("screen", 0) > 0)
            if receiving >= n_joined or time.monotonic() > deadline:
                break
            await asyncio.sleep(1)
        print(
            f"  N={size}: {n_joined} joined in {join_seconds:.1f} s, {receiving} receiving camera and"
            f" slides; connections {dict(states)}",
            flush=True,
        )
        drops = udp_drops(pids[1:])
        at0, client_cpu0, before, _ = await counts(children)
        cpu0 = [cpu_seconds(pid) for pid in pids]
        sent0 = {source: track._count for source, track in speaker.tracks.items()}
        slides0 = speaker.screen._count
        await asyncio.sleep(args.seconds)
        at1, client_cpu1, after, states = await counts(children)
        cpu1 = [cpu_seconds(pid) for pid in pids]
        wall = at1 - at0
        sent = {s: (track._count - sent0[s]) / wall for s, track in speaker.tracks.items()}
        ws = speaker._ws
        closed = f" (socket closed: {ws.close_code})" if ws is not None and ws.closed else ""
        print(
            f"  speaker {speaker.state}/{speaker.pc.connectionState}{closed} {speaker.errors[-1:]},"
            f" sent camera {sent['camera']:.1f} fps, slides"
            f" {(speaker.screen._count - slides0) / wall:.1f} fps; receivers' connections {dict(states)}",
            flush=True,
        )
        print(f"  UDP datagrams dropped so far (workers' sockets, others): {drops}", flush=True)
        load = os.getloadavg()[0]
        rates: dict[str, list[float]] = {"camera": [], "screen": [], "microphone": []}
        for b, a in zip(before, after, strict=False):
            for source, got in rates.items():
                got.append((a.get(source, 0) - b.get(source, 0)) / wall)
        if len(after) < n_joined:  # a receiver whose connection dropped receives nothing
            for got in rates.values():
                got.append(0.0)
        late = []
        for k in range(args.late):
            try:
                late.append(await late_joiner(url, f"late-{size}-{k}", 20))
            except AssertionError:
                late.append(float("inf"))
        return Row(
            size,
            n_joined,
            join_seconds,
            sum(c1 - c0 for c0, c1 in zip(cpu0[1:], cpu1[1:], strict=True)) / wall,
            (cpu1[0] - cpu0[0]) / wall,
            min(rates["camera"]),
            statistics.mean(rates["camera"]),
            min(rates["screen"]),
            min(rates["microphone"]),
            late,
            (client_cpu1 - client_cpu0) / wall,
            load,
            speaker.pc.connectionState,
            drops[0],
        )
    except (TimeoutError, AssertionError, RuntimeError) as exc:
        print(f"  N={size}: did not fill: {exc!r}", flush=True)
        return None
    finally:
        await asyncio.gather(*(child.stop() for child in children))
        await speaker.close()


HEADER = (
    "    N  join s  workers CPU  per receiver  web CPU  camera fps min/mean  slides fps min"
    "  voice pkt/s min  late joiner's 1st slide (s)  receivers' CPU  load"
)


def report_line(r: Row) -> str:
    """One row of the table, against the issue's targets."""
    late = " ".join("timeout" if s == float("inf") else f"{s:.2f}" for s in r.late)
    verdict = [
        "camera ok" if r.camera_min >= TARGET_CAMERA_FPS else "CAMERA LOW",
        "slides ok" if r.slides_min >= SLIDES_FPS * 0.9 else "SLIDES LOW",
        "cost ok" if r.per_receiver <= TARGET_SHARE else "COST HIGH",
        "late ok" if r.late and max(r.late) <= TARGET_LATE else "LATE SLOW",
    ]
    return (
        f"{r.size:>5}  {r.join_seconds:>6.1f}  {r.workers_cpu:>10.1%}  {r.per_receiver:>11.2%}"
        f"  {r.web_cpu:>7.1%}  {r.camera_min:>10.1f} / {r.camera_mean:<5.1f}  {r.slides_min:>14.1f}"
        f"  {r.audio_min:>15.1f}  {late:>27}  {r.clients_cpu:>14.1%}  {r.load:.1f}"
        f"\n       {', '.join(verdict)}; speaker {r.speaker}; {r.drops} datagrams dropped at the worker"
    )


async def start_server(port: int, workers: int, room_size: int, log: Path) -> asyncio.subprocess.Process:
    """The app in a process of its own (``bench.rooms_forwarding.serve``), once it listens."""
    command = [sys.executable, "-m", "bench.training", "--serve", str(port), "--workers", str(workers)]
    command += ["--room-size", str(room_size)]
    server = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.PIPE, stderr=log.open("w")
    )
    assert server.stdout is not None
    line = await asyncio.wait_for(server.stdout.readline(), 30)
    assert line.strip() == b"ready", line
    for _ in range(100):  # "ready" is said on start-up, just before the socket listens
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.1)
            continue
        writer.close()
        await writer.wait_closed()
        break
    return server


async def bench(args: argparse.Namespace) -> list[Row]:
    """Start the server, run each size in turn, stop the server."""
    install_passthrough()
    include_loopback_candidates()
    clip = make_clip(args.cache, CAMERA)
    slides = make_screen_clip(args.cache, fps=SLIDES_FPS, kbps=SLIDES_KBPS)
    sizes = [int(n) for n in args.sizes.split(",")]
    room_size = max(sizes) + args.late + 2
    server = await start_server(args.port, args.workers, room_size, args.cache / "training-server.log")
    rows: list[Row] = []
    try:
        print(
            f"camera {CAMERA}; slides 1280x720 {SLIDES_FPS} fps {SLIDES_KBPS} kbps; Opus 32 kbps 20 ms;"
            f" {args.workers} media worker(s); rooms of up to {room_size} (bench setting);"
            f" receivers in processes of {args.per_child}; server log {args.cache / 'training-server.log'}"
        )
        print(HEADER, flush=True)
        for size in sizes:
            row = await run_size(f"http://127.0.0.1:{args.port}", size, args, clip, slides, server.pid)
            if row is None:
                break
            rows.append(row)
            print(report_line(row), flush=True)
            if row.speaker != "connected":
                print("the speaker was dropped: larger rooms are not tried", flush=True)
                break
        growth(rows)
        return rows
    finally:
        server.terminate()
        await server.wait()


def growth(rows: list[Row]) -> None:
    """How the workers' CPU grows from one size to the next (linear: by the size's ratio)."""
    for a, b in itertools.pairwise(rows):
        if a.workers_cpu > 0:
            ratio = b.workers_cpu / a.workers_cpu
            print(f"N {a.size} -> {b.size} (x{b.size / a.size:.2f}): workers' CPU x{ratio:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="30,60,120", help="receivers per room, comma-separated")
    parser.add_argument("--seconds", type=float, default=15.0, help="measured window per size")
    parser.add_argument("--workers", type=int, default=1, help="media worker processes of the server")
    parser.add_argument("--per-child", type=int, default=40, help="receivers per child process")
    parser.add_argument("--parallel", type=int, default=4, help="joins at once per child process")
    parser.add_argument("--late", type=int, default=3, help="late joiners timed per size")
    parser.add_argument("--join-seconds", type=float, default=240.0, help="bound on joining")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "rc-bench-clips")
    parser.add_argument("--port", type=int, default=18093)
    parser.add_argument(
        "--log-ice", action="store_true", help="log aioice (e.g. the speaker's 'Consent to send expired')"
    )
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--room-size", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
        serve_app(args.serve, args.workers, args.room_size)
        return
    if args.log_ice:
        logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
        logging.getLogger("aioice").setLevel(logging.INFO)
    print(f"load average before: {os.getloadavg()} on {os.cpu_count()} cores", flush=True)
    asyncio.run(bench(args))
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
