"""Fixtures of the room tests: the real app with the development room routes, headless Chromium."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer
from playwright.async_api import Browser, async_playwright

from media.internals import install_passthrough
from remote_check.clock import FixedClock
from remote_check.settings import Settings
from tests.conftest import Database
from tests.rooms.session_world import World, build_world
from tests.rooms.synthetic import Changes, EncodedClip, SyntheticClient, encode_clip
from web.app import create_app
from web.rooms.signalling import SIGNAL_LIMITS

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--use-fake-device-for-media-stream=fps=30",
    "--use-fake-ui-for-media-stream",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--allow-loopback-in-peer-connection",
    "--disable-features=WebRtcHideLocalIpsWithMdns",
    "--autoplay-policy=no-user-gesture-required",
]


def room_settings(tmp_path: Path, db: Database, **overrides: Any) -> Settings:
    """Settings of a test server whose rooms are reachable on 127.0.0.1."""
    values: dict[str, Any] = {
        "data_dir": tmp_path / "data",
        "database_url": db.url,
        "rooms_dev_routes": True,
        "rooms_loopback_candidates": True,
        "media_workers": 0,  # in-process unless a test asks for workers (tests/rooms/test_workers.py)
    }
    values.update(overrides)
    return Settings(**values)


ServerFactory = Callable[..., Awaitable[TestServer]]


@pytest.fixture
async def make_rooms_server(db: Database, clock: FixedClock, tmp_path: Path) -> AsyncIterator[ServerFactory]:
    """Start the real app on 127.0.0.1 with the room settings, overridden by keyword (and the
    clock of the signalling rate limits, ``rate_clock``)."""
    servers: list[TestServer] = []

    async def make(rate_clock: Callable[[], float] | None = None, **overrides: Any) -> TestServer:
        settings = room_settings(tmp_path / str(len(servers)), db, **overrides)
        app = create_app(settings, clock=clock)
        if rate_clock is not None:
            app[SIGNAL_LIMITS].clock = rate_clock
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        servers.append(server)
        return server

    try:
        yield make
    finally:
        for server in servers:
            await server.close()


@pytest.fixture
async def rooms_server(make_rooms_server: ServerFactory) -> TestServer:
    """The real app on 127.0.0.1 with the development room routes."""
    return await make_rooms_server()


@pytest.fixture
async def chromium() -> AsyncIterator[Browser]:
    """Debian's Chromium, headless, with fake camera, microphone and screen. A missing browser is an
    error, never a skip: the browser tests must run."""
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            await browser.close()


@pytest.fixture
async def world(make_rooms_server: ServerFactory, db: Database, clock: FixedClock) -> AsyncIterator[World]:
    """A session with its people (tests/rooms/session_world.py) on a rooms server with default settings."""
    built = await build_world(await make_rooms_server(), db, clock)
    try:
        yield built
    finally:
        await built.web.close()


@pytest.fixture(scope="module")
def clip() -> EncodedClip:
    """Two seconds of pre-encoded camera and microphone for synthetic clients (a module may override)."""
    return encode_clip(seconds=2.0)


@pytest.fixture
def changes() -> Changes:
    """A shared notifier the synthetic clients signal on every frame they receive."""
    return Changes()


Enter = Callable[[str], Awaitable[SyntheticClient]]


@pytest.fixture
async def enter(world: World, clip: EncodedClip, changes: Changes) -> AsyncIterator[Enter]:
    """A synthetic participant: a staff user name, or a guest kind (``guest:enterprise``)."""
    install_passthrough()
    clients: list[SyntheticClient] = []

    async def make(who: str) -> SyntheticClient:
        if who.startswith("guest:"):
            client = SyntheticClient(world.guest_ws(world.tokens[who[6:]]), who, clip, changes=changes)
        else:
            http = (await world.staff(who)).session
            client = SyntheticClient(world.room_ws(), who, clip, changes=changes, http=http)
        clients.append(client)
        await client.join(name=False)
        return client

    yield make
    for client in clients:
        await client.close()
