"""The training bench's receivers (``bench/training.py``): receive-only synthetic clients in a child
process, and the parent's handle on such a process.

A child (``python -m bench.training_receivers URL COUNT PREFIX PARALLEL``) joins ``COUNT`` clients that
publish nothing and count what arrives at the RTP level (``bench.light_receivers``), then answers each
``count`` line on its stdin with one JSON line: every connected receiver's frames by source, its CPU
time and its receivers' connection states; ``quit`` closes them all.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
from collections import Counter
from typing import Any

from bench.light_receivers import LightReceivers
from media.internals import include_loopback_candidates, install_passthrough
from tests.rooms.synthetic import Changes, EncodedClip, SyntheticClient

NOTHING = EncodedClip([], [])  # receivers publish nothing


def sources(client: SyntheticClient) -> dict[str, int]:
    """Frames received so far by source (camera, screen, microphone) from anyone."""
    counts: dict[str, int] = {}
    for mid, received in client.received.items():
        source = str(client.slot_info.get(mid, {}).get("source", ""))
        if source:
            counts[source] = counts.get(source, 0) + received.frames
    return counts


async def receive(url: str, count: int, prefix: str, parallel: int) -> None:
    """Join ``count`` receive-only clients to ``url``; answer ``count`` lines on stdin with one
    JSON line of everyone's frames by source; ``quit`` closes them all."""
    install_passthrough()
    include_loopback_candidates()
    changes = Changes()
    light = LightReceivers(changes)
    light.install()
    clients = [SyntheticClient(url, f"{prefix}-{i}", NOTHING, changes=changes) for i in range(count)]
    light.clients = clients
    gate = asyncio.Semaphore(parallel)
    failures: list[str] = []

    async def join(client: SyntheticClient) -> None:
        async with gate:
            try:
                await client.join(publish=False)
            except Exception as exc:
                failures.append(f"{client.name}: {exc!r}")

    async def forget() -> None:  # rosters arrive with every join; nobody reads them here
        while True:
            for client in clients:
                client.messages.clear()
            await asyncio.sleep(1)

    forgetting = asyncio.create_task(forget())
    began = time.monotonic()
    await asyncio.gather(*(join(client) for client in clients))
    say({"joined": count - len(failures), "seconds": time.monotonic() - began, "failures": failures[:3]})
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    try:
        while (await reader.readline()).decode().strip() not in ("quit", ""):
            states = Counter(c.pc.connectionState for c in clients)
            say(
                {
                    "at": time.monotonic(),
                    "cpu": time.process_time(),
                    "clients": [sources(c) for c in clients if c.pc.connectionState == "connected"],
                    "states": states,
                }
            )
    finally:
        forgetting.cancel()
        await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)


def say(data: dict[str, Any]) -> None:
    """One JSON line to the parent."""
    sys.stdout.write(json.dumps(data) + "\n")
    sys.stdout.flush()


class Child:
    """A child process of receivers, asked for counts line by line."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.joined: dict[str, Any] = {}

    @classmethod
    async def start(cls, url: str, count: int, prefix: str, parallel: int) -> Child:
        command = [sys.executable, "-m", "bench.training_receivers", url, str(count), prefix, str(parallel)]
        process = await asyncio.create_subprocess_exec(
            *command, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE
        )
        return cls(process)

    async def line(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        text = await self.process.stdout.readline()
        if not text:
            raise RuntimeError(f"receivers' process {self.process.pid} ended ({self.process.returncode})")
        data: dict[str, Any] = json.loads(text)
        return data

    async def ask(self) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(b"count\n")
        await self.process.stdin.drain()
        return await self.line()

    async def stop(self) -> None:
        if self.process.returncode is None and self.process.stdin is not None:
            try:
                self.process.stdin.write(b"quit\n")
                await self.process.stdin.drain()
                await asyncio.wait_for(self.process.wait(), 30)
            except (TimeoutError, ConnectionError):
                self.process.kill()
                await self.process.wait()


async def counts(children: list[Child]) -> tuple[float, float, list[dict[str, int]], Counter[str]]:
    """Every connected receiver's frames by source, the mean time they were taken, the children's
    CPU, the receivers' connection states."""
    answers = await asyncio.gather(*(child.ask() for child in children))
    clients = [c for answer in answers for c in answer["clients"]]
    states: Counter[str] = Counter()
    for answer in answers:
        states.update(answer["states"])
    at = statistics.mean(a["at"] for a in answers)
    return at, sum(a["cpu"] for a in answers), clients, states


if __name__ == "__main__":
    asyncio.run(receive(sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])))
