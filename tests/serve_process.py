"""``remote-check serve`` as a real process for tests and benches: started over a test database and
a data folder, read line by line, and stopped; and what the tests ask of such a process (its
children, whether a process has gone)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from yarl import URL

from remote_check.settings import Settings
from web.keys import SECRET, SETTINGS

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Process:
    """A ``remote-check serve`` process on 127.0.0.1: what ``build_world`` needs of a server."""

    process: asyncio.subprocess.Process
    port: int
    app: dict[Any, Any]
    output: list[str]

    def make_url(self, path: str) -> URL:
        return URL(f"http://127.0.0.1:{self.port}{path}")


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def _drain(process: asyncio.subprocess.Process, into: list[str], serving: asyncio.Future[None]) -> None:
    assert process.stdout is not None
    async for line in process.stdout:
        into.append(line.decode(errors="replace"))
        if "serving on" in into[-1] and not serving.done():
            serving.set_result(None)
    if not serving.done():
        serving.set_exception(AssertionError("the server stopped before serving:\n" + "".join(into)))


@contextlib.asynccontextmanager
async def serve(settings: Settings, database_url: str, *, group: bool = False) -> AsyncIterator[Process]:
    """``python -m remote_check serve`` over ``database_url`` and the data folder of ``settings``
    (its output, stdout and stderr, in ``Process.output``). With ``group`` it leads a process
    group of its own, as a service under systemd or Docker does, so that the group can be signalled."""
    port = free_port()
    env = {
        **os.environ,
        "RC_DATA_DIR": str(settings.data_dir),
        "RC_DATABASE_URL": database_url,
        "RC_ROOMS_LOOPBACK_CANDIDATES": "true",
        "RC_MEDIA_WORKERS": str(settings.media_workers),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "remote_check", "serve", "--host", "127.0.0.1", "--port", str(port),
        env=env, cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        start_new_session=group,
    )  # fmt: skip
    output: list[str] = []
    serving: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    reader = asyncio.create_task(_drain(process, output, serving))
    try:
        async with asyncio.timeout(60):
            await serving
        yield Process(process, port, {SECRET: settings.secret_key(), SETTINGS: settings}, output)
    finally:
        if process.returncode is None:
            process.terminate()  # a graceful stop, as an operator's
        async with asyncio.timeout(30):
            await process.wait()
        await reader


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                stat = (entry / "stat").read_text()
                if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
    return found


async def exited(pid: int, seconds: float) -> bool:
    """Whether process ``pid`` (not ours to wait for) is gone within ``seconds``: its pidfd
    becomes readable when it exits."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    loop = asyncio.get_running_loop()
    gone: asyncio.Future[None] = loop.create_future()

    def readable() -> None:
        if not gone.done():
            gone.set_result(None)

    loop.add_reader(fd, readable)
    try:
        async with asyncio.timeout(seconds):
            await gone
        return True
    except TimeoutError:
        return False
    finally:
        loop.remove_reader(fd)
        os.close(fd)
