"""Benchmark: one admitted participant floods a room with "hand" toggles; what it costs the server.

Run from the repository root: ``.venv/bin/python -m bench.signalling_flood [--seconds 10]
[--count 200000] [--no-stuck] [--server-root DIR]``. It starts the real app in a server process
on 127.0.0.1 (development room routes on, rooms in the web process), joins three WebSocket
clients to one room: a *flooder* that sends hand toggles as fast as its socket takes them, for
``--seconds`` or ``--count`` messages, whichever ends first, or until the server closes it; a
*watcher* that reads everything; and (unless ``--no-stuck``) a *stuck* participant that never
reads. It prints the server's resident memory (RSS) after the joins, at the end, and its peak
(VmHWM), the messages sent and how many the server let through (the hand changes the watcher
saw), whether the server closed the flooder (and the close code) and the stuck participant.
``--server-root`` runs the server from another checkout (to compare with older code).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import WSMsgType, web

HAND_PROBE = 200  # hand toggles per flush of the flooder's socket


def serve(port: int) -> None:
    """The server process: the real app with the development room routes, rooms in-process."""
    from remote_check.settings import Settings
    from web.app import create_app

    data = Path(tempfile.mkdtemp(prefix="rc-bench-flood-"))
    settings = Settings(data_dir=data, rooms_dev_routes=True, rooms_loopback_candidates=True, media_workers=0)

    async def run() -> None:
        runner = web.AppRunner(create_app(settings), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        print("ready", flush=True)  # listening now
        try:
            await asyncio.Event().wait()
        finally:
            await runner.cleanup()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())


def memory_kib(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak) of a process, in KiB."""
    values: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0])
    return values


@dataclass
class Watch:
    """What the watcher saw of the flooder and the stuck participant."""

    hand_changes: int = 0
    messages: int = 0
    flooder_left: bool = False
    stuck_left: bool = False


async def join(http: aiohttp.ClientSession, url: str, name: str) -> aiohttp.ClientWebSocketResponse:
    ws = await http.ws_connect(url)
    await ws.send_json({"type": "join", "name": name})
    while (await ws.receive_json(timeout=30))["type"] != "joined":
        pass
    return ws


async def watch(ws: aiohttp.ClientWebSocketResponse, seen: Watch, stuck: bool) -> None:
    last = False
    while True:
        frame = await ws.receive()
        if frame.type != WSMsgType.TEXT:
            return
        seen.messages += 1
        message: dict[str, Any] = frame.json()
        if message["type"] != "roster":
            continue
        people = {p["name"]: p for p in message["people"]}
        flooder = people.get("flooder")
        if flooder is not None:
            if flooder["hand_up"] != last:
                last = flooder["hand_up"]
                seen.hand_changes += 1
            seen.flooder_left = not flooder["connected"]
        if stuck and "stuck" in people:
            seen.stuck_left = not people["stuck"]["connected"]


async def flood(ws: aiohttp.ClientWebSocketResponse, seconds: float, count: int) -> tuple[int, float]:
    """Send hand toggles until ``seconds`` or ``count`` or the server closes; (sent, seconds)."""
    sent, start = 0, time.perf_counter()
    try:
        while sent < count and time.perf_counter() - start < seconds and not ws.closed:
            for _ in range(HAND_PROBE):
                await ws.send_json({"type": "hand", "up": sent % 2 == 0})
                sent += 1
            await asyncio.sleep(0)  # let the flooder's reader see a close
    except ConnectionError:
        pass
    return sent, time.perf_counter() - start


async def flooder_close(ws: aiohttp.ClientWebSocketResponse) -> str:
    """How the flooder's connection ended, after reading what it was sent."""
    with contextlib.suppress(TimeoutError):
        while True:
            frame = await ws.receive(timeout=5)
            if frame.type == WSMsgType.CLOSE:
                return f"closed by the server: {frame.data} {frame.extra!r}"
            if frame.type in (WSMsgType.CLOSED, WSMsgType.ERROR):
                return "connection lost"
    return "still open"


async def bench(args: argparse.Namespace, root: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(root)}
    server = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.signalling_flood",
        "--serve",
        str(args.port),
        cwd=root,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        assert server.stdout is not None
        assert (await asyncio.wait_for(server.stdout.readline(), 60)).strip() == b"ready"
        url = f"http://127.0.0.1:{args.port}/rooms/flood/ws"
        async with aiohttp.ClientSession() as http:
            flooder = await join(http, url, "flooder")
            watcher = await join(http, url, "watcher")
            stuck = await join(http, url, "stuck") if args.stuck else None  # never reads again
            seen = Watch()
            watching = asyncio.create_task(watch(watcher, seen, stuck is not None))
            before = memory_kib(server.pid)
            sent, took = await flood(flooder, args.seconds, args.count)
            how = await flooder_close(flooder)
            # let the server catch up with what it accepted, then read its memory
            quiet_since, last = time.perf_counter(), -1
            while time.perf_counter() - quiet_since < 2.0:
                await asyncio.sleep(0.5)
                if seen.messages != last:
                    quiet_since, last = time.perf_counter(), seen.messages
            after = memory_kib(server.pid)
            watching.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watching
            if stuck is not None:
                await stuck.close()
    finally:
        server.terminate()
        await server.wait()
    print(f"server from {root}")
    print(f"flood: {sent} hand toggles in {took:.1f} s ({sent / took:,.0f}/s); flooder: {how}")
    let_through = seen.hand_changes
    print(
        f"let through (hand changes the watcher saw): {let_through}; refused or unread: {sent - let_through}"
    )
    print(f"watcher received {seen.messages} messages")
    if args.stuck:
        print(f"stuck participant disconnected by the server: {'yes' if seen.stuck_left else 'no'}")
    rss, end, peak = (value / 1024 for value in (before["VmRSS"], after["VmRSS"], after["VmHWM"]))
    print(
        f"server RSS: {rss:.0f} MiB after the joins, {end:.0f} MiB at the end"
        f" (+{end - rss:.0f} MiB); peak {peak:.0f} MiB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=10.0, help="flood for at most this long")
    parser.add_argument("--count", type=int, default=200_000, help="send at most this many toggles")
    parser.add_argument(
        "--no-stuck", dest="stuck", action="store_false", help="no participant that never reads"
    )
    parser.add_argument("--server-root", help="run the server from this checkout")
    parser.add_argument("--port", type=int, default=18091)
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    asyncio.run(bench(args, Path(args.server_root or Path(__file__).resolve().parents[1])))
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
