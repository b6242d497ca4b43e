"""A recording is its owner's alone: every folder and file the server writes for it is owner-only,
even when the server was started with a permissive umask."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator

import pytest

from tests.rooms.conftest import Enter
from tests.rooms.session_world import World
from tests.rooms.synthetic import FPS, Changes
from web.keys import SETTINGS

pytestmark = pytest.mark.parametrize("db", ["sqlite"], indirect=True)


@pytest.fixture(autouse=True)
def permissive_umask() -> Iterator[None]:
    """Started as a login shell would start it (umask 022), before the server is built."""
    before = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(before)


async def test_recording_folders_and_files_are_owner_only(
    enter: Enter, changes: Changes, world: World
) -> None:
    host = await enter("gz.coord")
    await enter("expert.on")
    await changes.until(lambda: host.tracks["camera"]._count >= 15, what="the host sending")
    await host.send({"type": "moderate", "action": "record_start"})
    await changes.until(lambda: host.roster.get("recording") is True, what="recording on")
    mark = host.tracks["camera"]._count
    await changes.until(lambda: host.tracks["camera"]._count >= mark + FPS, what="a second of frames")
    await host.send({"type": "moderate", "action": "record_stop"})
    await changes.until(lambda: host.roster.get("recording") is False, what="recording off")

    data_dir = world.web.test_server.app[SETTINGS].data_dir
    recordings = data_dir / "recordings"
    written = [recordings, *recordings.rglob("*")]
    assert any(p.suffix == ".mkv" for p in written)
    assert any(p.name == "index.json" for p in written)
    for path in [data_dir, *written]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), (path, oct(mode))
