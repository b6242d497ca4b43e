"""Rooms in media worker processes: synthetic aiortc clients through the real app, whose room
host is a WorkerRoomHost with two workers."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from media.host import LocalRoomHost, RoomSummary
from media.internals import install_passthrough
from media.link import WorkerLink
from media.workers import DEFAULT_FACTORY, WorkerRoomHost, make_room_host
from remote_check.clock import FixedClock
from tests.conftest import Database
from tests.rooms.conftest import room_settings
from tests.rooms.synthetic import Changes, EncodedClip, SyntheticClient, encode_clip
from web.app import create_app
from web.keys import ROOMS

pytestmark = pytest.mark.parametrize("db", ["sqlite"], indirect=True)  # rooms keep no database state

Join = Callable[[str, str], Awaitable[SyntheticClient]]


@pytest.fixture(scope="module")
def clip() -> EncodedClip:
    return encode_clip(seconds=1.0)


ServerFactory = Callable[..., Awaitable[TestServer]]


@pytest.fixture
async def make_server(db: Database, clock: FixedClock, tmp_path: Path) -> AsyncIterator[ServerFactory]:
    """Start the real app, its rooms in two media worker processes (settings overridden by keyword)."""
    servers: list[TestServer] = []

    async def make(**overrides: Any) -> TestServer:
        settings = room_settings(tmp_path / str(len(servers)), db, media_workers=2, **overrides)
        app = create_app(settings, clock=clock)
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        servers.append(server)
        return server

    yield make
    for server in servers:
        await server.close()


@pytest.fixture
async def server(make_server: ServerFactory) -> TestServer:
    return await make_server()


@pytest.fixture
def host(server: TestServer) -> WorkerRoomHost:
    host = server.app[ROOMS]
    assert isinstance(host, WorkerRoomHost)
    return host


@pytest.fixture
async def join(server: TestServer, clip: EncodedClip, changes: Changes) -> AsyncIterator[Join]:
    install_passthrough()
    clients: list[SyntheticClient] = []

    async def make(room: str, name: str) -> SyntheticClient:
        url = str(server.make_url(f"/rooms/{room}/ws"))
        client = SyntheticClient(url, name, clip, keep_payloads=True, changes=changes)
        clients.append(client)
        await client.join()
        return client

    yield make
    for client in clients:
        await client.close()


def receives(client: SyntheticClient, other: SyntheticClient, frames: int = 15) -> bool:
    video = client.from_participant(other.id, "video")
    audio = client.from_participant(other.id, "audio")
    return video is not None and video.frames >= frames and audio is not None and audio.frames >= frames


def alive(pid: int) -> bool:
    """Whether a process of that id exists (a reaped child does not)."""
    return Path(f"/proc/{pid}").exists()


def child_pids() -> set[int]:
    """The children of this process, all threads."""
    children: set[int] = set()
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        try:
            children |= {int(pid) for pid in (task / "children").read_text().split()}
        except FileNotFoundError:  # a thread that ended since the listing has no children
            continue
    return children


async def test_two_participants_receive_each_others_frames_through_their_rooms_worker(
    join: Join, changes: Changes, host: WorkerRoomHost, clip: EncodedClip
) -> None:
    alice = await join("r1", "Alice")
    bob = await join("r1", "Bob")
    await changes.until(lambda: receives(alice, bob) and receives(bob, alice), what="both receiving")
    got = alice.from_participant(bob.id, "video")
    assert got is not None
    assert got.payloads <= set(clip.video), "forwarded as sent: the worker neither decodes nor encodes"
    assert " 127.0.0.1 " in alice.pc.remoteDescription.sdp, "the worker offers loopback candidates"
    pid = host.worker_pid("r1")
    assert pid is not None
    assert pid in child_pids()
    # the offers reached the worker the room lives in, and only that one
    by_worker = dict(zip(host.router.workers, await host.summary(), strict=True))
    key = host.router.worker_of("r1")
    assert key is not None
    assert by_worker.pop(key) == [RoomSummary("r1", participants=2, published=4, forwarding=4)]
    assert list(by_worker.values()) == [[]]


async def test_two_rooms_land_on_different_workers(
    join: Join, host: WorkerRoomHost, changes: Changes
) -> None:
    alice = await join("a", "Alice")
    bob = await join("b", "Bob")
    assert alice.id
    assert bob.id
    pids = {host.worker_pid("a"), host.worker_pid("b")}
    assert pids == set(host.pids().values())
    assert len(pids) == 2
    # a third person goes where the room is, not to the idle-est worker
    carol = await join("a", "Carol")
    await changes.until(lambda: receives(carol, alice), what="Carol receiving Alice")
    assert host.worker_pid("a") in pids
    summaries = [room for rooms in await host.summary() for room in rooms]
    assert sorted((s.room_id, s.participants) for s in summaries) == [("a", 2), ("b", 1)]


async def test_a_killed_worker_ends_its_calls_with_an_error_and_is_restarted(
    join: Join, host: WorkerRoomHost, changes: Changes
) -> None:
    alice = await join("r1", "Alice")
    bob = await join("r1", "Bob")
    await changes.until(lambda: receives(alice, bob), what="Alice receiving Bob")
    dead = host.worker_pid("r1")
    assert dead is not None
    dead_key = host.router.worker_of("r1")
    assert dead_key is not None
    os.kill(dead, signal.SIGKILL)

    def told(client: SyntheticClient) -> bool:
        return any(e["code"] == "media_worker_failed" for e in client.errors)

    await changes.until(lambda: told(alice) and told(bob), what="both told the call ended")
    assert "媒体服务中断" in alice.errors[-1]["message"]
    assert host.router.worker_of("r1") is None
    # a new room works, on a live worker (the dead one was replaced)
    carol = await join("r2", "Carol")
    dave = await join("r2", "Dave")
    await changes.until(lambda: receives(carol, dave) and receives(dave, carol), what="the new room")
    assert not alive(dead)
    restarted = host.pids()[dead_key]
    assert restarted != dead
    assert alive(restarted)
    assert host.worker_pid("r2") in host.pids().values()


async def test_shutdown_ends_the_calls_and_leaves_no_worker_process(
    join: Join, server: TestServer, host: WorkerRoomHost, changes: Changes
) -> None:
    alice = await join("a", "Alice")
    bob = await join("b", "Bob")
    assert alice.id
    assert bob.id
    pids = set(host.pids().values())
    assert len(pids) == 2
    assert pids <= child_pids()
    await server.close()
    assert not any(alive(pid) for pid in pids)
    assert not pids & child_pids()
    assert host.pids() == {}


async def test_a_refusal_in_the_worker_reaches_the_browser_in_its_language(
    make_server: ServerFactory, clip: EncodedClip
) -> None:
    install_passthrough()
    server = await make_server(max_room_size=1)
    url = str(server.make_url("/rooms/r1/ws"))
    alice = SyntheticClient(url, "Alice", clip)
    bob = SyntheticClient(url, "Bob", clip)
    try:
        await alice.join()
        refused = await bob.join()
        assert refused["type"] == "error"
        assert refused["code"] in {"conflict", "room_full"}
        assert "已满" in refused["message"], "the domain's message, in Chinese by default"
        host = server.app[ROOMS]
        assert isinstance(host, WorkerRoomHost)
        assert host.router.rooms["r1"].participants == 1, "the refused join is not counted"
    finally:
        await alice.close()
        await bob.close()


async def test_a_worker_exits_by_itself_when_the_web_process_is_gone(db: Database, tmp_path: Path) -> None:
    link = WorkerLink(0)
    await link.start(room_settings(tmp_path, db), DEFAULT_FACTORY)
    assert link.process is not None
    assert link.writer is not None
    link.stopping = True  # nobody is left in the web process to notice the worker
    link.writer.close()  # what the kernel does to the socket when the web process dies
    assert await asyncio.wait_for(link.process.wait(), 20) == 0
    assert not alive(link.pid)
    assert link.reader_task is not None
    await link.reader_task


async def test_no_workers_means_rooms_in_the_web_process(db: Database, tmp_path: Path) -> None:
    host = make_room_host(room_settings(tmp_path, db, media_workers=0))
    assert isinstance(host, LocalRoomHost)
