"""Soak benchmark: a check session's room of six people, a shared screen and a recording, for a
long time; does anything grow, does anything slow down, does the replay render.

Run from the repository root: ``.venv/bin/python -m bench.soak [--minutes 30] [--workers 2]``
(``--minutes 2`` for a short run). Everything runs on 127.0.0.1: a SQLite database and a data
folder in a temporary folder, a real ``remote-check serve`` process with ``--workers`` media
worker processes, and, in this process, six synthetic aiortc clients (``tests/rooms/synthetic.py``,
light receivers as in ``bench/rooms_forwarding.py``): the coordinator (host), a second host (the
province's administrator), the panel's expert, an auditor (observer), and the enterprise and the
supplier by their guest links (the host admits them); the enterprise shares a 1280x720 15 fps
screen. Everyone sends a 640x360 30 fps camera and an Opus microphone.

Once everyone receives everyone, the host starts the recording; then every ``--interval`` seconds
(a minute) it prints the slowest receiver's camera and screen fps over that interval, and the
resident memory (RSS) and open file descriptors of the web process, each media worker and the
client process. At the end the host stops the recording and the bench waits for the replay (it
renders in the web process) and checks it with ffprobe; finally the server gets SIGTERM and the
time it takes to exit is printed. Targets (issue 9): RSS growth of each server process at most
20 MB from the first minute to the end, no descriptor growth, steady fps, the replay renders.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import signal
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from aiohttp.test_utils import TestServer

from bench.light_receivers import LightReceivers
from bench.rooms_forwarding import Camera, make_clip, make_screen_clip, process_tree
from media.internals import include_loopback_candidates, install_passthrough
from recordings.models import Replay, ReplayState
from recordings.paths import REPLAY_FILE, recordings_root, replay_folder
from remote_check.clock import SHANGHAI, FixedClock
from remote_check.database import make_engine, make_sessionmaker, transaction
from remote_check.migrate import upgrade
from remote_check.settings import Settings
from scheduler.models import CheckSession
from tests.conftest import Database
from tests.recordings.jobs_world import codecs_and_duration
from tests.rooms.session_world import World, build_world, join_staff
from tests.rooms.synthetic import Changes, EncodedClip, ScreenSharer, SyntheticClient
from tests.serve_process import serve

GROWTH_MB = 20.0
STAFF = ("gz.coord", "admin", "expert.on", "gz.auditor")
GUESTS = ("enterprise", "supplier")


@dataclass(frozen=True)
class Usage:
    """One process at one moment: resident memory and open descriptors."""

    rss_mb: float
    fds: int


def usage(pid: int) -> Usage:
    """The resident memory (VmRSS) and the number of open file descriptors of ``pid``."""
    status = Path(f"/proc/{pid}/status").read_text()
    rss_kb = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
    return Usage(rss_kb / 1024, len(os.listdir(f"/proc/{pid}/fd")))


def sample(names: dict[int, str]) -> dict[str, Usage]:
    """The usage of every named process."""
    return {name: usage(pid) for pid, name in names.items()}


def video_frames(clients: list[SyntheticClient]) -> dict[tuple[str, str], tuple[str, int]]:
    """Frames received so far on every video slot from one connected client to another:
    (client, mid) -> (source, frames). A client whose connection closed is left out, as a
    receiver and as a sender (its drop is printed on its own line)."""
    live = [client for client in clients if client.pc.connectionState == "connected"]
    ids = {client.id for client in live}
    return {
        (client.name, mid): (str(client.slot_info.get(mid, {}).get("source", "")), received.frames)
        for client in live
        for mid, received in client.received.items()
        if received.kind == "video" and client.slot_info.get(mid, {}).get("participant") in ids
    }


def slowest(
    before: dict[tuple[str, str], tuple[str, int]],
    after: dict[tuple[str, str], tuple[str, int]],
    seconds: float,
) -> dict[str, float]:
    """The lowest fps of any receiving slot, by source (camera, screen), between two counts."""
    rates: dict[str, list[float]] = {}
    for key, (source, frames) in after.items():
        rates.setdefault(source, []).append((frames - before.get(key, (source, 0))[1]) / seconds)
    return {source: min(values) for source, values in rates.items() if source}


async def enter_everyone(
    world: World, clip: EncodedClip, screen: list[bytes], changes: Changes, clients: list[SyntheticClient]
) -> None:
    """The six people in the room, into ``clients`` (to be closed by the caller): staff sign in,
    guests come by their links and are admitted."""
    await join_staff(world, STAFF, clip, changes, clients)
    host = clients[0]
    for kind in GUESTS:
        url = world.guest_ws(world.tokens[kind])
        guest = (
            ScreenSharer(url, kind, clip, screen, changes)
            if kind == "enterprise"
            else SyntheticClient(url, kind, clip, changes=changes)
        )
        clients.append(guest)
        await guest.join(name=False)
        await changes.until(
            lambda: any(not p["admitted"] for p in host.roster["people"]), what="a guest waiting"
        )
        waiting = next(p for p in host.roster["people"] if not p["admitted"])
        await host.send({"type": "moderate", "action": "admit", "target": waiting["id"]})
        await changes.until(lambda g=guest: g.negotiated > 0, what=f"the {kind} admitted")  # type: ignore[misc]


async def move_to_now(db: Database, session_id: int, minutes: float) -> None:
    """The session (booked on the test's fixed clock) takes place now: the server runs on the real
    clock, and a guest's link lasts until the session's end (plus the grace period)."""
    now = dt.datetime.now(dt.UTC)
    async with transaction(db.factory) as session:
        check = await session.get(CheckSession, session_id)
        assert check is not None
        check.starts_at = now - dt.timedelta(minutes=5)
        check.ends_at = now + dt.timedelta(minutes=minutes + 60)


def everyone_receives(clients: list[SyntheticClient]) -> bool:
    """Every client receives every other's camera, and the others receive the screen."""
    for client in clients:
        for other in clients:
            got = client.from_participant(other.id, "video")
            if other is not client and not (got and got.frames > 0):
                return False
        screens = [
            r for mid, r in client.received.items() if client.slot_info.get(mid, {}).get("source") == "screen"
        ]
        if not isinstance(client, ScreenSharer) and not any(r.frames > 0 for r in screens):
            return False
    return True


def connection_states(clients: list[SyntheticClient]) -> dict[str, str]:
    """Each client's signalling and media state, e.g. ``joined/connected``; a closed socket's code."""
    states = {}
    for client in clients:
        ws = client._ws
        closed = f" (socket closed: {ws.close_code})" if ws is not None and ws.closed else ""
        states[client.name] = f"{client.state}/{client.pc.connectionState}{closed}"
    return states


def report(minute: float, fps: dict[str, float], used: dict[str, Usage]) -> str:
    """One line of the table."""
    cells = "  ".join(f"{name} {u.rss_mb:6.1f} MB {u.fds:4d} fd" for name, u in used.items())
    return f"{minute:6.1f}  {fps.get('camera', 0):6.1f}  {fps.get('screen', 0):6.1f}  {cells}"


async def wait_for_replay(db: Database, session_id: int, seconds: float) -> Replay | None:
    """The replay once it is rendered (or failed), polling its row; None after ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        async with db.factory() as session:
            replay = await session.get(Replay, session_id)
        if replay is not None and replay.state in (ReplayState.READY, ReplayState.FAILED):
            return replay
        await asyncio.sleep(2)
    return None


async def soak(minutes: float, interval: float, workers: int, cache: Path, camera: Camera) -> bool:
    """Run the soak; whether every target held."""
    this = asyncio.current_task()
    assert this is not None
    # SIGTERM (a `kill`) stops the bench as Ctrl-C does: the server it started is stopped too
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, this.cancel)
    install_passthrough()
    include_loopback_candidates()
    changes = Changes()
    light = LightReceivers(changes)
    light.install()
    clip, screen = make_clip(cache, camera), make_screen_clip(cache)
    folder = Path(tempfile.mkdtemp(prefix="rc-soak-"))
    url = f"sqlite+aiosqlite:///{folder / 'soak.sqlite3'}"
    engine = make_engine(url)
    await upgrade(engine)
    settings = Settings(data_dir=folder / "data", database_url=url, media_workers=workers)
    db = Database("sqlite", url, engine, make_sessionmaker(engine, audit_key=settings.audit_key()))
    settings.secret_key()
    clock = FixedClock(dt.datetime(2020, 4, 10, 9, 0, tzinfo=SHANGHAI))  # the booking's "now"
    ok = True
    async with serve(settings, url, group=True) as server:
        world = await build_world(cast(TestServer, server), db, clock)
        await move_to_now(db, world.session_id, minutes)
        clients: list[SyntheticClient] = []
        try:
            await enter_everyone(world, clip, screen, changes, clients)
            light.clients = clients
            await changes.until(lambda: everyone_receives(clients), seconds=90, what="everyone receiving")
            names = {server.process.pid: "web"}  # the workers start with the first call
            names.update({pid: f"worker{i}" for i, pid in enumerate(process_tree(server.process.pid)[1:])})
            names[os.getpid()] = "clients"
            host = clients[0]
            await host.send({"type": "moderate", "action": "record_start"})
            await changes.until(lambda: host.roster.get("recording") is True, what="recording on")
            print(f"data in {folder}; load average {os.getloadavg()}; {len(clients)} people recording")
            print("minute  cam fps  scr fps  (slowest receiver)  RSS and descriptors by process", flush=True)
            began = time.monotonic()
            samples = [(0.0, sample(names))]
            frames = video_frames(clients)
            print(report(0.0, {}, samples[0][1]), flush=True)
            fps_seen: list[dict[str, float]] = []
            states = connection_states(clients)
            while (elapsed := time.monotonic() - began) < minutes * 60:
                step_began = time.monotonic()
                await asyncio.sleep(min(interval, minutes * 60 - elapsed))
                now_frames = video_frames(clients)
                fps = slowest(frames, now_frames, time.monotonic() - step_began)
                frames = now_frames
                fps_seen.append(fps)
                samples.append(((time.monotonic() - began) / 60, sample(names)))
                print(
                    report(samples[-1][0], fps, samples[-1][1]), f" load {os.getloadavg()[0]:.2f}", flush=True
                )
                if (now_states := connection_states(clients)) != states:
                    print(f"        connections: {now_states}", flush=True)
                    states = now_states
            recorded = time.monotonic() - began
            await host.send({"type": "moderate", "action": "record_stop"})
            await changes.until(
                lambda: host.roster.get("recording") is False, seconds=60, what="recording off"
            )
            ok = summarise(samples, fps_seen) and ok
            render_began = time.monotonic()
            replay = await wait_for_replay(db, world.session_id, 120 + recorded)
            if replay is None or replay.state != ReplayState.READY:
                print(f"REPLAY NOT RENDERED: {replay.error if replay else 'timed out'}")
                ok = False
            else:
                path = replay_folder(recordings_root(settings), world.session_id) / REPLAY_FILE
                codecs, duration = codecs_and_duration(path)
                print(
                    f"replay rendered in {time.monotonic() - render_began:.0f} s: {codecs}, {duration:.1f} s"
                    f" for {recorded:.1f} s recorded ({path.stat().st_size / 1e6:.1f} MB)"
                )
                ok = ok and abs(duration - recorded) < 5
        finally:
            for client in clients:
                await client.close()
            await world.web.close()
            stop_began = time.monotonic()
            if server.process.returncode is None:
                os.killpg(server.process.pid, signal.SIGTERM)
            code = await server.process.wait()
            print(f"SIGTERM to exit: {time.monotonic() - stop_began:.2f} s, exit code {code}")
            complaints = server.output[2:]  # after the database's and the address's lines: what it logged
            print(f"server log lines: {len(complaints)}", *complaints[:30], sep="\n  ")
            if "Traceback" in "".join(server.output):
                print("TRACEBACK in the server's output:\n" + "".join(server.output))
                ok = False
    await engine.dispose()
    return ok


def summarise(samples: list[tuple[float, dict[str, Usage]]], fps_seen: list[dict[str, float]]) -> bool:
    """Growth from the first interval (warmed up) to the end, by process, and the fps range."""
    base = samples[1][1] if len(samples) > 2 else samples[0][1]
    end = samples[-1][1]
    ok = True
    for name, last in end.items():
        grown, fds = last.rss_mb - base[name].rss_mb, last.fds - base[name].fds
        since_start = last.rss_mb - samples[0][1][name].rss_mb
        held = name == "clients" or (grown <= GROWTH_MB and fds <= 0)
        ok = ok and held
        print(
            f"{name}: RSS {base[name].rss_mb:.1f} -> {last.rss_mb:.1f} MB ({grown:+.1f} MB after the first"
            f" interval, {since_start:+.1f} MB from the start), descriptors {base[name].fds} -> {last.fds}"
            f"{'' if held else '  OVER TARGET'}"
        )
    for source in ("camera", "screen"):
        values = [f[source] for f in fps_seen if source in f]
        if values:
            print(
                f"slowest receiver's {source} fps by interval: min {min(values):.1f}, max {max(values):.1f}"
            )
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=30.0, help="how long to record (default 30)")
    parser.add_argument("--interval", type=float, default=60.0, help="seconds between samples")
    parser.add_argument("--workers", type=int, default=2, help="media worker processes")
    parser.add_argument("--camera", type=Camera.parse, default=Camera(640, 360, 30, 600), help="WxH@fps:kbps")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "rc-bench-clips")
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()} on {os.cpu_count()} cores", flush=True)
    ok = asyncio.run(soak(args.minutes, args.interval, args.workers, args.cache, args.camera))
    print(f"load average after: {os.getloadavg()}; {'targets held' if ok else 'TARGETS MISSED'}")


if __name__ == "__main__":
    main()
